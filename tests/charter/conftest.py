"""Published charters and standards, made through the real service functions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from charter.models import Charter
from charter.services import charter_draft_create, charter_new_version, charter_publish
from services.models import Service, StandardVersion
from services.services import service_create, standard_draft_create, standard_publish
from tests.factories import complete_version_data

PLEDGE = "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar)."


def make_service(agency: Any, unit: Any, name: str, editor: Any) -> Service:
    return service_create(agency=agency, unit=unit, name=name, acting_user=editor)


def publish_standard(
    service: Service, editor: Any, approver: Any, **overrides: Any
) -> StandardVersion:
    data, children = complete_version_data(**overrides.pop("data", {}))
    children.update(overrides.pop("children", {}))
    version = standard_draft_create(
        service=service, acting_user=editor, data=data, children=children
    )
    return standard_publish(
        version=version, acting_user=approver, decree_number="800/12-Disdukcapil"
    )


def make_charter(unit: Any, services: list[Service], editor: Any, **fields: Any) -> Charter:
    values: dict[str, Any] = {
        "pledge": PLEDGE,
        "signatory_name": "Dra. Siti Rahmawati",
        "signatory_title": "Kepala Unit Pelayanan",
        "signed_on": dt.date(2025, 1, 2),
        "compensation_per_day": 20000,
        "compensation_cap": 500000,
    }
    values.update(fields)
    return charter_draft_create(unit=unit, services=services, acting_user=editor, **values)


@pytest.fixture
def service_a(agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any) -> Service:
    service = make_service(agency_a, unit_a, "Kartu Tanda Penduduk Elektronik", editor_a)
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
        charter=make_charter(unit_a, [service_a], editor_a), acting_user=approver_a
    )


@pytest.fixture
def superseded_charter(published_charter: Charter, editor_a: Any, approver_a: Any) -> Charter:
    newer = charter_new_version(charter=published_charter, acting_user=editor_a)
    charter_publish(charter=newer, acting_user=approver_a)
    published_charter.refresh_from_db()
    return published_charter


@pytest.fixture
def draft_charter(unit_a: Any, service_a: Service, editor_a: Any) -> Charter:
    return make_charter(unit_a, [service_a], editor_a)
