from __future__ import annotations

from typing import Any

from services.models import Service, StandardVersion
from services.services import service_create, standard_draft_create, standard_publish
from tests import factories


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
    service = service_create(
        agency=agency,
        unit=unit,
        name=name,
        keywords=keywords,
        category=category,
        channels=channels if channels is not None else ["counter"],
    )
    content, children = factories.complete_version_data(**data)
    if requirements is not None:
        children["requirements"] = [{"name": r} for r in requirements]
    if content.get("is_free") is False:
        children["cost_items"] = [{"name": "Retribusi", "amount": 50000, "legal_basis": "Perda 1"}]
    version = standard_draft_create(service=service, data=content, children=children)
    return service, standard_publish(version=version, acting_user=None, acknowledge_incomplete=True)
