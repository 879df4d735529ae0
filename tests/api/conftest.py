"""Registry content for the API tests, built through the service layer."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from services.models import StandardVersion
from services.services import (
    CHILD_MODELS,
    service_create,
    standard_draft_create,
    standard_draft_update,
    standard_new_version,
    standard_publish,
)
from tests.accounts.conftest import login_verified
from tests.factories import UserFactory, complete_version_data


def make_service(agency: Any, unit: Any, name: str, **fields: Any) -> Any:
    return service_create(agency=agency, unit=unit, name=name, **fields)


def make_draft(
    service: Any, children: dict[str, list[dict[str, Any]]] | None = None, **overrides: Any
) -> StandardVersion:
    """A draft with all 14 components, `overrides` and `children` replacing parts of it."""
    data, content = complete_version_data(**overrides)
    content.update(children or {})
    return standard_draft_create(service=service, data=data, children=content)


def make_published(
    service: Any, children: dict[str, list[dict[str, Any]]] | None = None, **overrides: Any
) -> StandardVersion:
    version = make_draft(service, children, **overrides)
    return standard_publish(
        version=version, acting_user=None, decree_number="SK 1/2025", acknowledge_incomplete=True
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


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def as_user(api: APIClient) -> Any:
    """Log a user in through the session, second factor confirmed (None stays anonymous)."""

    def login(user: Any) -> APIClient:
        if user is not None:
            login_verified(api, user)
        return api

    return login


@pytest.fixture
def published_a(unit_a: Any) -> StandardVersion:
    """Agency A's service with a published standard (v1) and no draft."""
    service = make_service(unit_a.agency, unit_a, "KTP Elektronik", channels=["counter"])
    return make_published(service)


@pytest.fixture
def draft_a(unit_a: Any) -> StandardVersion:
    """Agency A's service whose only version is a complete draft."""
    service = make_service(unit_a.agency, unit_a, "Akta Kelahiran", channels=["online"])
    return make_draft(service)
