from __future__ import annotations

from typing import Any

from services.models import Service, StandardVersion
from services.services import service_create, standard_draft_create, standard_publish
from tests import factories


def make_service(agency: Any, unit: Any, name: str = "Penerbitan KTP-el", **fields: Any) -> Service:
    return service_create(agency=agency, unit=unit, name=name, **fields)


def make_published(service: Service, published_at: Any = None, **overrides: Any) -> StandardVersion:
    data, children = factories.complete_version_data(**overrides)
    version = standard_draft_create(service=service, data=data, children=children)
    return standard_publish(version=version, acting_user=None, published_at=published_at)


def make_draft(service: Service, **overrides: Any) -> StandardVersion:
    data, children = factories.complete_version_data(**overrides)
    return standard_draft_create(service=service, data=data, children=children)
