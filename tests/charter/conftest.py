"""Published charters and standards, made through the real service functions."""

from __future__ import annotations

from typing import Any

import pytest

from charter.models import Charter
from charter.services import charter_new_version, charter_publish
from services.models import Service, StandardVersion
from services.services import standard_publish
from tests.factories import CharterFactory
from tests.registry import make_draft, make_service


def publish_standard(
    service: Service, editor: Any, approver: Any, **overrides: Any
) -> StandardVersion:
    """Drafted by `editor`, published by `approver` (who must confirm nothing missing)."""
    version = make_draft(
        service, overrides.pop("children", {}), acting_user=editor, **overrides.pop("data", {})
    )
    return standard_publish(
        version=version, acting_user=approver, decree_number="800/12-Disdukcapil"
    )


@pytest.fixture
def service_a(agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any) -> Service:
    service = make_service(
        agency_a, unit_a, "Kartu Tanda Penduduk Elektronik", acting_user=editor_a
    )
    publish_standard(
        service,
        editor_a,
        approver_a,
        children={
            "steps": [
                {
                    "actor": "Petugas loket",
                    "description": "Memeriksa berkas",
                    "duration_value": 15,
                    "duration_unit": "minutes",
                },
                {
                    "actor": "Operator",
                    "description": "Merekam data",
                    "duration_value": 2,
                    "duration_unit": "hours",
                },
            ],
            "complaint_channels": [
                {"kind": "phone", "value": "022-000"},
                {"kind": "lapor", "value": "lapor.go.id"},
            ],
        },
    )
    return service


@pytest.fixture
def published_charter(unit_a: Any, service_a: Service, editor_a: Any, approver_a: Any) -> Charter:
    return charter_publish(
        charter=CharterFactory.create(unit=unit_a, services=[service_a], acting_user=editor_a),
        acting_user=approver_a,
    )


@pytest.fixture
def superseded_charter(published_charter: Charter, editor_a: Any, approver_a: Any) -> Charter:
    newer = charter_new_version(charter=published_charter, acting_user=editor_a)
    charter_publish(charter=newer, acting_user=approver_a)
    published_charter.refresh_from_db()
    return published_charter


@pytest.fixture
def draft_charter(unit_a: Any, service_a: Service, editor_a: Any) -> Charter:
    return CharterFactory.create(unit=unit_a, services=[service_a], acting_user=editor_a)
