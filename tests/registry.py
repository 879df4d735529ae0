"""Registry content (services and their standard versions) for every test folder.

The one home of `make_service`, `make_draft` and `make_published`: they go through the real
service functions, so what a test starts from is exactly what the application would have made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.models import Service, StandardVersion
from services.services import (
    CHILD_MODELS,
    standard_draft_update,
    standard_new_version,
    standard_publish,
)
from tests.factories import (
    DraftVersionFactory,
    PublishedVersionFactory,
    ServiceFactory,
    UserFactory,
)

Children = dict[str, list[dict[str, Any]]]


def make_service(
    agency: Any,
    unit: Any,
    name: str = "Penerbitan KTP-el",
    *,
    acting_user: Any = None,
    **fields: Any,
) -> Service:
    return ServiceFactory.create(
        agency=agency, unit=unit, name=name, acting_user=acting_user, **fields
    )


def make_draft(
    service: Service,
    children: Children | None = None,
    *,
    acting_user: Any = None,
    **overrides: Any,
) -> StandardVersion:
    """A draft with all 14 components, `overrides` and `children` replacing parts of it."""
    return DraftVersionFactory.create(
        service=service, children=children, acting_user=acting_user, **overrides
    )


def make_published(
    service: Service,
    children: Children | None = None,
    *,
    published_at: dt.datetime | None = None,
    decree_number: str | None = None,
    acknowledge_incomplete: bool = True,
    acting_user: Any = None,
    **overrides: Any,
) -> StandardVersion:
    """`make_draft`'s version, published by the real `standard_publish`."""
    return PublishedVersionFactory.create(
        service=service,
        children=children,
        published_at=published_at,
        decree_number=decree_number,
        acknowledge_incomplete=acknowledge_incomplete,
        acting_user=acting_user,
        **overrides,
    )


def system_user() -> Any:
    """A superuser standing in for the back office, for set-up steps that need a user."""
    return UserFactory(username="sistem", is_superuser=True)


def republish(version: StandardVersion, **data: Any) -> StandardVersion:
    """Publish a new version of `version`'s service with `data` changed (children included)."""
    user = system_user()
    draft = standard_new_version(version=version, acting_user=user)
    children = {k: data.pop(k) for k in list(data) if k in CHILD_MODELS}
    standard_draft_update(version=draft, acting_user=user, data=data, children=children)
    return standard_publish(version=draft, acting_user=user, acknowledge_incomplete=True)


def publish_service(
    agency: Any,
    unit: Any,
    name: str,
    *,
    keywords: str = "",
    category: str = "other",
    channels: list[str] | None = None,
    requirements: list[str] | None = None,
    **data: Any,
) -> tuple[Service, StandardVersion]:
    """A new service and its published standard, for the catalogue's search and figures."""
    service = make_service(
        agency,
        unit,
        name,
        keywords=keywords,
        category=category,
        channels=channels if channels is not None else ["counter"],
    )
    children: Children = {}
    if requirements is not None:
        children["requirements"] = [{"name": r} for r in requirements]
    if data.get("is_free") is False:
        children["cost_items"] = [{"name": "Retribusi", "amount": 50000, "legal_basis": "Perda 1"}]
    return service, make_published(service, children, **data)
