"""A breach page says what the breach is about: the promise as it stood, the request's
timeline, the measured figure against the promise, the compensation owed and the next
step of the escalation ladder. Hand-built examples, with the figures worked out by hand."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Role
from delivery.services import delivery_record
from oversight.breach_facts import breach_facts
from oversight.escalation import escalate
from oversight.models import Breach, BreachEscalation
from oversight.sweep import sweep
from tests import factories
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import SWEPT_AT, late_breach
from tests.oversight.test_compensation import publish_charter
from tests.registry import make_published, make_service

service = notifications_conftest.service


@pytest.fixture
def breach(service):
    return late_breach(service)


def test_late_by_working_days_across_a_holiday(breach):
    # Submitted and complete Monday 5 January 2026; 5 working days -> due Monday 12th;
    # completed Tuesday 20th. After the 12th: 13, 14, 15, (16: Isra Mikraj), 19, 20.
    facts = breach_facts(breach)
    assert facts.measured is not None
    assert facts.measured.due_date == dt.date(2026, 1, 12)
    assert facts.measured.end_date == dt.date(2026, 1, 20)
    assert facts.measured.working_days_late == 5
    assert facts.measured.still_open is False
    assert facts.measured.over_by is None


def test_the_promise_is_the_version_in_force_at_submission(breach, service, unit_a):
    first = breach.delivery.version
    # A later version promises more time and a cost: the breach keeps the old promise.
    make_published(
        service,
        {"cost_items": [{"name": "Retribusi", "amount": 10_000, "legal_basis": "Perda 1/2020"}]},
        processing_time_value=10,
        is_free=False,
    )
    breach.refresh_from_db()
    facts = breach_facts(breach)
    assert facts.promise is not None
    assert facts.promise.version == first
    assert (facts.promise.time_value, facts.promise.time_unit, facts.promise.cost) == (
        5,
        "working_days",
        0,
    )


def test_the_timeline_in_order(breach):
    keys = [entry.key for entry in breach_facts(breach).timeline]
    assert keys == ["submitted", "file_complete", "due", "completed", "fee"]


def test_a_pause_and_an_extension_are_on_the_timeline(service):
    delivery, _ = delivery_record(
        service=service,
        reference="paused",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    delivery.pauses.create(
        reason="Menunggu dokumen", started_at=wib(2026, 1, 6), ended_at=wib(2026, 1, 7)
    )
    delivery.extended_due_date = dt.date(2026, 1, 14)
    delivery.extension_reason = "Server pusat rusak"
    delivery.save()
    breach = Breach.objects.create(
        kind="overdue_open",
        subject_type="delivery",
        subject_id=delivery.pk,
        agency=delivery.agency,
        unit=delivery.unit,
        service=service,
        delivery=delivery,
        occurred_at=wib(2026, 1, 15),
        detected_at=wib(2026, 1, 15),
    )
    facts = breach_facts(breach, today=dt.date(2026, 1, 20))
    entries = {entry.key: entry for entry in facts.timeline}
    assert [e.key for e in facts.timeline] == [
        "submitted",
        "file_complete",
        "paused",
        "resumed",
        "extended",
        "due",
    ]
    assert entries["paused"].detail == "Menunggu dokumen"
    assert entries["extended"].at == dt.date(2026, 1, 14)
    # Open on the 20th, against the extended date (the 14th): 15, (16 holiday), 19, 20.
    assert facts.measured is not None
    assert facts.measured.still_open and facts.measured.working_days_late == 3


def test_an_overcharge_says_by_how_much(agency_a, unit_a, national):
    priced = make_service(agency_a, unit_a, "Izin Usaha")
    make_published(
        priced,
        {"cost_items": [{"name": "Retribusi", "amount": 25_000, "legal_basis": "Perda 1/2020"}]},
        published_at=wib(2025, 6, 1),
        is_free=False,
    )
    delivery_record(
        service=priced,
        reference="pungli",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 7),
        fee_charged=40_000,
    )
    sweep(now=SWEPT_AT, kinds=["overcharge"])
    breach = Breach.objects.get(kind="overcharge")
    facts = breach_facts(breach)
    assert facts.promise is not None and facts.promise.cost == 25_000
    assert facts.measured is not None
    assert facts.measured.over_by == 15_000
    assert facts.measured.fee_charged == 40_000
    assert facts.measured.working_days_late is None
    assert facts.compensation is None  # an overcharge is not a delay


def test_compensation_owed_per_working_day(breach, service, unit_a):
    publish_charter(unit_a, [service])
    compensation = breach_facts(breach).compensation
    assert compensation is not None
    assert (compensation.days_late, compensation.owed) == (5, 100_000)


def test_next_step_is_the_day_the_ladder_raises_it(breach):
    # Detected Monday 2 February 2026; the default ladder: level 1 after 3 working days
    # (3, 4, 5 February), level 2 after 5 more (6, 9, 10, 11, 12 February).
    step = breach_facts(breach).next_step
    assert step is not None
    assert (step.level, step.on) == (1, dt.date(2026, 2, 5))
    # The ladder agrees: nothing the day before, level 1 on that day.
    assert escalate(now=wib(2026, 2, 4, 12)) == {1: 0, 2: 0, 3: 0}
    assert escalate(now=wib(2026, 2, 5, 12))[1] == 1
    step = breach_facts(breach).next_step
    assert step is not None
    assert (step.level, step.on) == (2, dt.date(2026, 2, 12))


def test_an_answered_breach_goes_no_further(breach):
    BreachEscalation.objects.create(breach=breach, acknowledged_at=SWEPT_AT)
    breach.status = "acknowledged"
    breach.save()
    step = breach_facts(breach).next_step
    assert step is not None and step.level is None and step.stopped_because


# --- The page ------------------------------------------------------------------------------


def _url(breach) -> str:
    return f"/staff/breaches/{breach.pk}/"


def test_the_page_shows_the_facts(client, breach, editor_a, service, unit_a):
    publish_charter(unit_a, [service])
    login_verified(client, editor_a)
    body = client.get(_url(breach)).content.decode()
    assert 'data-working-days-late="5"' in body
    assert 'data-promised-time="5"' in body
    assert 'data-compensation-owed="100000"' in body
    assert 'data-next-level="1"' in body and 'data-next-on="2026-02-05"' in body
    # In Indonesian first (the default language).
    assert "Janji yang berlaku saat itu" in body
    assert "5 hari kerja setelah tenggat" in body
    assert "eskalasi tingkat 1" in body
    assert re.findall(r'data-timeline="(\w+)"', body) == [
        "submitted",
        "file_complete",
        "due",
        "completed",
        "fee",
    ]


@pytest.fixture
def roles(cast, agency_a, agency_b, unit_a):
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin_b, agency=agency_b, role=Role.AGENCY_ADMIN)
    other_unit = factories.UnitFactory(agency=agency_a, slug="other-unit")
    limited = factories.UserFactory(username="limited")
    factories.MembershipFactory(user=limited, agency=agency_a, unit=other_unit, role=Role.EDITOR)
    own_unit = factories.UserFactory(username="own_unit")
    factories.MembershipFactory(user=own_unit, agency=agency_a, unit=unit_a, role=Role.EDITOR)
    return {**cast, "admin_b": admin_b, "limited": limited, "own_unit": own_unit}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin_a", 200),
        ("editor_a", 200),
        ("own_unit", 200),
        ("limited", 404),
        ("admin_b", 404),
        ("editor_b", 404),
        ("ombudsman", 200),
        ("anonymous", 302),
    ],
)
def test_who_may_read_the_page(client, roles, breach, role, status):
    if roles[role] is not None:
        login_verified(client, roles[role])
    assert client.get(_url(breach)).status_code == status


def test_the_page_query_count_is_pinned(client, breach, editor_a, service, unit_a):
    publish_charter(unit_a, [service])
    login_verified(client, editor_a)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_url(breach)).status_code == 200
    few = len(ctx.captured_queries)
    for n in range(5):
        late_breach(service, ref=f"more-{n}")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_url(breach)).status_code == 200
    assert len(ctx.captured_queries) == few
    assert few <= 17, few
