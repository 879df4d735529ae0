"""The sweep flags exactly the broken promises, once, whatever the concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.models import ServiceDelivery
from delivery.services import (
    delivery_complete,
    delivery_extend,
    delivery_pause,
    delivery_record,
    delivery_resume,
)
from notifications.models import Notification
from oversight.models import Breach, BreachRule, BreachStatus, SweepRun
from oversight.sweep import sweep
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

NOW = wib(2026, 2, 1, 12, 0)


@pytest.fixture
def service(agency_a, unit_a, national):
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    return service


def _record(service, ref, submitted, completed=None, fee=0):
    delivery, _ = delivery_record(
        service=service,
        reference=ref,
        submitted_at=submitted,
        file_complete_at=submitted,
        completed_at=completed,
        fee_charged=fee,
    )
    return delivery


def _kinds() -> set[tuple[str, str]]:
    refs = dict(ServiceDelivery.objects.values_list("pk", "reference"))
    return {
        (
            b.kind,
            refs.get(b.subject_id, str(b.subject_id))
            if b.subject_type == "delivery"
            else b.subject_type,
        )
        for b in Breach.objects.all()
    }


def test_each_rule_flags_exactly_the_expected_subjects(service, approver_a):
    _record(service, "on-time", wib(2026, 1, 5), wib(2026, 1, 12, 15))
    exact = _record(service, "exact", wib(2026, 1, 5))
    delivery_complete(delivery=exact, completed_at=exact.due_at)  # on the due moment: on time
    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    _record(service, "very-late", wib(2026, 1, 5), wib(2026, 1, 26, 9))
    _record(service, "open-overdue", wib(2026, 1, 5))
    _record(service, "open-in-time", wib(2026, 1, 28))
    paused = _record(service, "paused", wib(2026, 1, 5))
    delivery_pause(delivery=paused, reason="Berkas kurang", at=wib(2026, 1, 6))
    delivery_resume(delivery=paused, at=wib(2026, 1, 8))
    delivery_complete(
        delivery=paused, completed_at=wib(2026, 1, 14, 10)
    )  # due 14 Jan after the pause
    extended = _record(service, "extended", wib(2026, 1, 5))
    delivery_extend(
        delivery=extended,
        new_due_date=dt.date(2026, 1, 20),
        reason="Survei",
        acting_user=approver_a,
    )
    delivery_complete(delivery=extended, completed_at=wib(2026, 1, 19, 10))
    _record(service, "rp-1", wib(2026, 1, 5), wib(2026, 1, 6), fee=1)

    result = sweep(now=NOW)
    delivery_kinds = {
        k for k in _kinds() if k[0] in {"late_delivery", "overdue_open", "overcharge"}
    }
    assert delivery_kinds == {
        ("late_delivery", "late"),
        ("late_delivery", "very-late"),
        ("overdue_open", "open-overdue"),
        ("overcharge", "rp-1"),
    }
    severities = dict(
        Breach.objects.filter(kind="late_delivery").values_list("delivery__reference", "severity")
    )
    assert severities == {"late": "overdue", "very-late": "very_overdue"}
    late = Breach.objects.get(kind="late_delivery", delivery__reference="very-late")
    assert late.measured_value == 14 and late.promised_value == 5  # 16 Jan is Isra Mikraj
    assert late.occurred_at == ServiceDelivery.objects.get(reference="very-late").due_at
    assert late.suggested_category == "undue_delay"
    over = Breach.objects.get(kind="overcharge")
    assert (over.measured_value, over.promised_value, over.suggested_category) == (
        1,
        0,
        "illegal_charge",
    )
    assert result.created["late_delivery"] == 2
    # Every new breach wrote its notification request (one pending e-mail fan-out row to its
    # unit, about the breach, keyed by event, breach, unit, channel and level) in the same
    # statement.
    outbox = set(
        Notification.objects.values_list(
            "event", "subject_type__app_label", "subject_type__model", "subject_id",
            "subject_event_id", "unit_id", "channel", "recipient", "level", "status",
            "idempotency_key",
        )
    )  # fmt: skip
    assert outbox == {
        (
            "breach_created", "oversight", "breach", b.pk, None, b.unit_id, "email", "", 0,
            "pending", f"breach_created:{b.pk}:unit:{b.unit_id}:email:0",
        )
        for b in Breach.objects.all()
    }  # fmt: skip


def test_sweeping_twice_changes_nothing(service):
    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    sweep(now=NOW)
    before = list(Breach.objects.order_by("pk").values_list("pk", "kind", "subject_id"))
    second = sweep(now=NOW + dt.timedelta(minutes=1))
    assert sum(second.created.values()) == 0
    assert list(Breach.objects.order_by("pk").values_list("pk", "kind", "subject_id")) == before
    assert Notification.objects.count() == len(before)


def test_overdue_is_flagged_when_the_deadline_passes_not_at_completion(service):
    delivery = _record(service, "open", wib(2026, 1, 5))
    sweep(now=wib(2026, 1, 12, 20))  # before the end of the due day
    assert not Breach.objects.filter(kind="overdue_open").exists()
    sweep(now=wib(2026, 1, 13, 1))
    assert Breach.objects.filter(kind="overdue_open", subject_id=delivery.pk).exists()


def test_a_corrected_completion_time_resolves_the_late_breach_a_late_one_stays(service):
    typo = _record(service, "typo", wib(2026, 1, 5), wib(2026, 1, 22, 9))
    _record(service, "really-late", wib(2026, 1, 5), wib(2026, 1, 22, 9))
    sweep(now=NOW)
    assert Breach.objects.filter(kind="late_delivery").count() == 2
    delivery_record(  # the clerk typed 22 for 12
        service=service,
        reference="typo",
        submitted_at=typo.submitted_at,
        file_complete_at=typo.submitted_at,
        completed_at=wib(2026, 1, 12, 9),
    )
    sweep(now=NOW + dt.timedelta(minutes=1))
    states = dict(
        Breach.objects.filter(kind="late_delivery").values_list("delivery__reference", "status")
    )
    assert states == {"typo": BreachStatus.RESOLVED, "really-late": BreachStatus.OPEN}


def test_a_deadline_moved_by_the_calendar_resolves_the_overdue_breach(service, national):
    from agencies.calendars import calendar_day_set

    moved = _record(service, "moved", wib(2026, 1, 5))  # due by the end of Monday 12 January
    completed_late = _record(service, "completed-late", wib(2026, 1, 5))
    sweep(now=wib(2026, 1, 13, 1))
    assert Breach.objects.filter(kind="overdue_open").count() == 2
    delivery_complete(delivery=completed_late, completed_at=wib(2026, 1, 13, 9))
    # A closure on 12 January (declared late) gives one more working day: due on the 13th.
    calendar_day_set(calendar=national, date=dt.date(2026, 1, 12), kind="closure", name="Banjir")
    moved.refresh_from_db()
    assert moved.due_date == dt.date(2026, 1, 13)
    sweep(now=wib(2026, 1, 13, 2))
    states = dict(
        Breach.objects.filter(kind="overdue_open").values_list("delivery__reference", "status")
    )
    # Completing late does not undo the breach; the moved deadline does.
    assert states == {"moved": BreachStatus.RESOLVED, "completed-late": BreachStatus.OPEN}


def test_a_corrected_fee_resolves_the_breach_and_keeps_it(service):
    delivery = _record(service, "fee", wib(2026, 1, 5), wib(2026, 1, 6), fee=150000)
    sweep(now=NOW)
    breach = Breach.objects.get(kind="overcharge")
    delivery_record(
        service=service,
        reference="fee",
        submitted_at=delivery.submitted_at,
        file_complete_at=delivery.submitted_at,
        completed_at=delivery.completed_at,
        fee_charged=0,
    )
    sweep(now=NOW + dt.timedelta(minutes=1))
    breach.refresh_from_db()
    assert breach.status == BreachStatus.RESOLVED and breach.resolved_at is not None


def test_service_level_miss_needs_the_minimum_sample(service, settings):
    # 3 of 4 on time in January: 75% < 90%, but the sample (4) is below the minimum (30).
    for i, day in enumerate([12, 12, 12, 13]):
        _record(service, f"m{i}", wib(2026, 1, 5), wib(2026, 1, day, 9))
    sweep(now=NOW)
    assert not Breach.objects.filter(kind="service_level_miss").exists()
    BreachRule.objects.create(kind="service_level_miss", agency=None, settings={"min_sample": 4})
    sweep(now=NOW + dt.timedelta(minutes=1))
    miss = Breach.objects.get(kind="service_level_miss")
    assert miss.period == "2026-01" and miss.measured_value == 75 and miss.promised_value == 90


def test_stale_standard_missing_charter_and_incomplete(agency_a, unit_a, national):
    from services.services import standard_draft_create, standard_publish

    service = make_service(agency_a, unit_a)
    stale = make_published(service, published_at=wib(2024, 1, 1))
    other = make_service(agency_a, unit_a, name="Tak lengkap")
    incomplete = standard_publish(
        version=standard_draft_create(service=other, data={"processing_time_value": 3}),
        acting_user=None,
        acknowledge_incomplete=True,
    )
    sweep(now=NOW)
    kinds = {(b.kind, b.subject_id) for b in Breach.objects.all()}
    assert ("stale_standard", stale.pk) in kinds
    assert ("incomplete_standard", incomplete.pk) in kinds
    assert ("missing_charter", unit_a.pk) in kinds
    assert ("stale_standard", incomplete.pk) not in kinds


def test_rules_can_be_switched_off_per_agency(service, agency_a):
    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    BreachRule.objects.create(kind="late_delivery", agency=agency_a, is_active=False)
    sweep(now=NOW)
    assert not Breach.objects.filter(kind="late_delivery").exists()


def test_runs_are_recorded_and_healthz_reports_a_stale_sweeper(service, client):
    assert client.get("/healthz").json()["checks"]["sweeper"] != "ok"
    sweep()
    run = SweepRun.objects.get()
    assert run.succeeded and run.finished_at is not None
    body = client.get("/healthz").json()
    assert body["checks"]["sweeper"] == "ok" and body["status"] == "ok"
    SweepRun.objects.update(finished_at=run.finished_at - dt.timedelta(minutes=10))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_make_no_duplicates(agency_a, unit_a):
    from agencies.calendars import calendar_national, calendar_rebuild

    calendar_rebuild(calendar_national(), span=(2025, 2027))
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    for i in range(20):
        _record(service, f"late-{i}", wib(2026, 1, 5), wib(2026, 1, 14, 9), fee=i % 2)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            sweep(now=NOW)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a sweep did not finish"
    assert not errors, errors
    assert Breach.objects.filter(kind="late_delivery").count() == 20
    assert Breach.objects.filter(kind="overcharge").count() == 10
    assert Notification.objects.count() == Breach.objects.count()


def test_a_partial_run_then_a_full_run_completes_the_set(service):
    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    _record(service, "fee", wib(2026, 1, 5), wib(2026, 1, 6), fee=10)
    # A run that stopped after its first rule (as if the worker died) moves no watermark.
    sweep(now=NOW, kinds=["late_delivery"])
    assert not SweepRun.objects.filter(succeeded=True).exists()
    sweep(now=NOW)
    assert {b.kind for b in Breach.objects.filter(subject_type="delivery")} == {
        "late_delivery",
        "overcharge",
    }


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=20),  # submitted: days after 5 Jan 2026
            st.one_of(
                st.none(), st.integers(min_value=0, max_value=15)
            ),  # completed: days after submission
            st.sampled_from([0, 0, 0, 1, 5000]),  # fee
        ),
        max_size=12,
    )
)
def test_the_set_based_sweep_matches_a_plain_python_reference(service, rows):
    Breach.objects.all().delete()
    SweepRun.objects.all().delete()
    ServiceDelivery.objects.all().delete()
    for i, (start, took, fee) in enumerate(rows):
        submitted = wib(2026, 1, 5) + dt.timedelta(days=start)
        completed = submitted + dt.timedelta(days=took, hours=2) if took is not None else None
        _record(service, f"r{i}", submitted, completed, fee=fee)
    sweep(now=NOW)
    expected = set()
    for d in ServiceDelivery.objects.all():
        assert d.due_at is not None
        if d.completed_at is not None and d.completed_at > d.due_at:
            expected.add(("late_delivery", d.pk))
        if d.completed_at is None and d.due_at < NOW:
            expected.add(("overdue_open", d.pk))
        if d.fee_charged > d.promised_cost:
            expected.add(("overcharge", d.pk))
    got = {
        (b.kind, b.subject_id)
        for b in Breach.objects.filter(kind__in=["late_delivery", "overdue_open", "overcharge"])
    }
    assert got == expected


@pytest.mark.parametrize(("role", "sees"), [("editor_a", 1), ("editor_b", 0), ("superuser", 1)])
def test_staff_see_only_their_agencys_breaches(client, cast, service, role, sees):
    from tests.accounts.conftest import login_verified

    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    sweep(now=NOW)
    login_verified(client, cast[role])  # superusers must pass two-factor first
    response = client.get("/staff/breaches/?kind=late_delivery")
    assert response.status_code == 200
    assert response.content.decode().count("data-breach=") == sees


def test_a_record_that_breaks_a_rule_is_logged_and_skipped(service):
    from oversight.models import SweepError

    _record(service, "fee-ok", wib(2026, 1, 5), wib(2026, 1, 6), fee=5000)
    # Rp 10^15 does not fit the breach's measured value: the set insert fails on this row.
    bad = _record(service, "fee-absurd", wib(2026, 1, 5), wib(2026, 1, 6), fee=10**15)
    _record(service, "late", wib(2026, 1, 5), wib(2026, 1, 13, 9))
    result = sweep(now=NOW)
    assert result.errors == 1
    error = SweepError.objects.get()
    assert error.kind == "overcharge" and error.subject_id == bad.pk
    assert set(
        Breach.objects.filter(kind="overcharge").values_list("delivery__reference", flat=True)
    ) == {"fee-ok"}
    assert Breach.objects.filter(kind="late_delivery").count() == 1  # other rules went on


def test_an_open_request_that_used_most_of_its_time_is_at_risk(service):
    risky = _record(service, "risky", wib(2026, 1, 5))  # due 12 Jan, end of day
    fresh = _record(service, "fresh", wib(2026, 1, 9))  # due 16 Jan... (Isra Mikraj: 19 Jan)
    sweep(now=wib(2026, 1, 11, 12))  # 6.6 of 7.6 days used for "risky"; about a quarter for "fresh"
    at_risk = set(Breach.objects.filter(kind="at_risk").values_list("subject_id", flat=True))
    assert fresh.pk not in at_risk and risky.pk in at_risk
    assert at_risk == {risky.pk}
    assert Breach.objects.get(kind="at_risk").severity == "at_risk"
    # Past the deadline it is overdue as well; the warning stays as a record.
    sweep(now=wib(2026, 1, 13, 9))
    assert Breach.objects.filter(kind="overdue_open", subject_id=risky.pk).exists()
