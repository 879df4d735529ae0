"""Open-data test worlds of places, journeys and accountability: a public service mall, a
complaint with a secret text and identity, a case, an assessment (published or draft), and
all of them at once for the schema-driven tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agencies.locations import counter_attach, location_create
from cases import services as case_services
from cases.models import Case
from compliance import services as compliance_services
from compliance.models import AssessmentMethod
from feedback.complaints.services import Contact, complaint_submit
from lifeevents.services import life_event_create, life_event_publish, life_event_step_add
from tests.oversight.desk_world import desk_breach

SECRET_NAME = "Siti Rahmawati"
SECRET_EMAIL = "siti.rahma@example.org"
SECRET_TEXT = "Petugas Budi meminta uang rokok di loket tiga."
NOTE = "Pelapor: Siti Aminah, NIK 3273xxxx"


def make_mall(agency: Any, name: str, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "kind": "mpp",
        "province": "Jawa Barat",
        "city": "Kota A",
        "region_code": "32.73",
        "latitude": Decimal("-6.911700"),
        "longitude": Decimal("107.634400"),
        "weekly_hours": {"0": ["08:00", "15:00"], "5": ["08:00", "12:00"]},
        "facilities": ["lactation_room", "ramp"],
    }
    values.update(fields)
    return location_create(host_agency=agency, name=name, **values)


def complaint(service: Any, *, confidential: bool = True, category: str = "cost") -> Any:
    return complaint_submit(
        category=category,
        occurred_on=timezone.localdate() - dt.timedelta(days=2),
        description=SECRET_TEXT,
        service=service,
        anonymous=False,
        confidential=confidential,
        contact=Contact(name=SECRET_NAME, email=SECRET_EMAIL, phone=""),
    )


def finding_case(agency: Any, unit: Any, service: Any, ombudsman: Any) -> Case:
    breach = desk_breach(agency=agency, unit=unit, service=service)
    return case_services.case_open(breach_ids=[breach.pk], acting_user=ombudsman)


def assess(agency: Any, ombudsman: Any, method: AssessmentMethod, year: int, publish: bool) -> Any:
    assessment = compliance_services.assessment_create(
        method=method, agency=agency, year=year, acting_user=ombudsman
    )
    for result in assessment.indicator_results.exclude(kind="computed"):
        if result.kind == "checklist":
            compliance_services.result_record(result=result, value=3, acting_user=ombudsman)
        else:
            compliance_services.result_record(
                result=result, positive=2, asked=2, acting_user=ombudsman
            )
    if publish:
        compliance_services.period_publish(method=method, period=str(year), acting_user=ombudsman)
    assessment.refresh_from_db()
    return assessment


def records_world(*, agency: Any, unit: Any, service: Any, reviewer: Any) -> None:
    """One of each: a mall with the unit's counter, a published life event with the
    service, a complaint, a final finding with an open corrective action, a published
    assessment (needs the national calendar and the shipped methods)."""
    from tests.cases.conftest import advance

    counter_attach(unit=unit, location=make_mall(agency, "Mal Uji"), label="Loket 1")
    event = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    life_event_step_add(event=event, service=service, note="Akta")
    life_event_publish(event=event)
    complaint(service)
    advance(finding_case(agency, unit, service, reviewer), reviewer, None, "monitoring")
    method = AssessmentMethod.objects.get(code="kepatuhan-2022")
    assess(agency, reviewer, method, timezone.localdate().year - 1, publish=True)
