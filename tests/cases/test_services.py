"""Opening cases, the work of each step, deadlines on the unit's calendar, the outbox rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agencies.calendars import calendar_national, due_in_days
from cases import notices, services
from cases.models import ActionStatus, Case, CaseState, CorrectiveAction, Recommendation
from cases.selectors import corrective_actions_on_time, findings_record
from core.errors import ApplicationError, PermissionDeniedError
from notifications.models import Notification
from tests.cases.conftest import PDF, advance
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.django_db


def test_a_case_groups_breaches_of_one_unit(case_a: Case, ombudsman: Any) -> None:
    assert case_a.state == CaseState.REGISTERED
    assert case_a.breaches.count() == 2
    assert case_a.kind == "late_delivery"
    assert case_a.service is not None
    assert case_a.period_start < case_a.period_end  # type: ignore[operator]
    # A breach is in one case only.
    first = case_a.breaches.order_by("pk")[0]
    with pytest.raises(ApplicationError) as error_taken:
        services.case_open(breach_ids=[first.pk], acting_user=ombudsman)
    assert error_taken.value.code == "taken"


def test_a_case_is_about_one_unit(
    national: Any, agency_a: Any, unit_a: Any, unit_b: Any, agency_b: Any, ombudsman: Any
) -> None:
    a = desk_breach(agency=agency_a, unit=unit_a)
    b = desk_breach(agency=agency_b, unit=unit_b)
    with pytest.raises(ApplicationError) as error_one_unit:
        services.case_open(breach_ids=[a.pk, b.pk], acting_user=ombudsman)
    assert error_one_unit.value.code == "one_unit"


def test_only_reviewers_open_cases(national: Any, agency_a: Any, unit_a: Any, cast: Any) -> None:
    breach = desk_breach(agency=agency_a, unit=unit_a)
    for who in ("editor_a", "admin_a", "editor_b", "anonymous"):
        with pytest.raises(PermissionDeniedError):
            services.case_open(breach_ids=[breach.pk], acting_user=cast[who])


def test_a_group_of_a_unit_and_kind_in_a_period(
    national: Any, agency_a: Any, unit_a: Any, ombudsman: Any
) -> None:
    inside = [desk_breach(agency=agency_a, unit=unit_a, days_ago=d) for d in (3, 5)]
    desk_breach(agency=agency_a, unit=unit_a, days_ago=40)  # outside the period
    desk_breach(agency=agency_a, unit=unit_a, days_ago=4, kind="overcharge")  # another kind
    today = timezone.localdate()
    case = services.case_open_for_group(
        unit=unit_a,
        kind="late_delivery",
        period_start=today - dt.timedelta(days=10),
        period_end=today,
        acting_user=ombudsman,
    )
    assert set(case.breaches.values_list("pk", flat=True)) == {b.pk for b in inside}
    with pytest.raises(ApplicationError):  # nothing left to group
        services.case_open_for_group(
            unit=unit_a,
            kind="late_delivery",
            period_start=today - dt.timedelta(days=10),
            period_end=today,
            acting_user=ombudsman,
        )


def test_explanation_deadline_is_on_the_units_calendar(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "examination")
    now = timezone.now()
    case = services.case_transition(
        case, "request_explanation", ombudsman, text="Why?", days=5, now=now
    )
    request = case.requests.get()
    calendar = calendar_national()
    expected = due_in_days(calendar, timezone.localdate(now), 5).at
    assert request.due_at == expected
    assert case.shown_to_agency_at == now
    row = Notification.objects.get(event=notices.EXPLANATION_REQUESTED)
    assert (row.subject_id, row.unit_id, row.recipient) == (request.pk, case.unit_id, "")


def test_the_agency_answers_and_the_reviewer_hears(
    case_a: Case, ombudsman: Any, editor_a: Any, editor_b: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "examination")
    case = services.case_transition(case, "request_explanation", ombudsman, text="Why?")
    request = case.requests.get()
    with pytest.raises(PermissionDeniedError):
        services.case_transition(
            case, "answer_explanation", editor_b, request_id=request.pk, text="x"
        )
    upload = SimpleUploadedFile("bukti.pdf", PDF, content_type="application/pdf")
    services.case_transition(
        case,
        "answer_explanation",
        editor_a,
        request_id=request.pk,
        text="Server down.",
        attachment=upload,
    )
    request.refresh_from_db()
    assert request.answer == "Server down." and request.attachment
    assert (
        Notification.objects.filter(event=notices.AGENCY_ANSWERED, subject_id=request.pk).count()
        == 1
    )
    with pytest.raises(ApplicationError) as error_answered:
        services.case_transition(
            case, "answer_explanation", editor_a, request_id=request.pk, text="again"
        )
    assert error_answered.value.code == "answered"


def test_a_finding_of_maladministration_needs_categories_and_actions(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "examination")
    for data, field in (
        ({"outcome": "found", "summary": "s", "actions": [("a", None)]}, "categories"),
        ({"outcome": "found", "summary": "s", "categories": ["undue_delay"]}, "actions"),
        (
            {"outcome": "found", "summary": "s", "categories": ["nope"], "actions": ["a"]},
            "categories",
        ),
        ({"outcome": "maybe", "summary": "s"}, "outcome"),
    ):
        with pytest.raises(ApplicationError) as caught:
            services.case_transition(case, "issue_draft", ombudsman, **data)
        assert caught.value.field == field
    case.refresh_from_db()
    assert case.state == CaseState.EXAMINATION


def test_draft_response_window_and_finalising_sets_the_actions_deadlines(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "draft_findings")
    finding = case.finding
    assert finding.response_due_at is not None
    late = finding.response_due_at + dt.timedelta(minutes=1)
    with pytest.raises(ApplicationError) as error_late:
        services.case_transition(case, "respond_draft", editor_a, text="Kami keberatan", now=late)
    assert error_late.value.code == "late"
    services.case_transition(case, "respond_draft", editor_a, text="Kami keberatan")
    now = timezone.now()
    case = services.case_transition(case, "finalise", ombudsman, now=now)
    action = CorrectiveAction.objects.get(finding__case=case)
    assert action.status == ActionStatus.OPEN and action.due_days == 30
    assert action.due_at == due_in_days(calendar_national(), timezone.localdate(now), 30).at
    assert Notification.objects.filter(event=notices.ACTION_DUE, subject_id=action.pk).count() == 1


def test_report_accept_and_the_on_time_record(
    case_a: Case, ombudsman: Any, editor_a: Any, agency_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    action = CorrectiveAction.objects.get(finding__case=case)
    bad = SimpleUploadedFile("x.pdf", b"MZ\x90\x00not a pdf", content_type="application/pdf")
    with pytest.raises(ApplicationError) as caught:
        services.case_transition(
            case, "report_action", editor_a, action_id=action.pk, evidence=bad, done=True
        )
    assert caught.value.field == "evidence"
    with pytest.raises(ApplicationError):  # nothing reported yet
        services.case_transition(case, "accept_action", ombudsman, action_id=action.pk)
    services.case_transition(
        case,
        "report_action",
        editor_a,
        action_id=action.pk,
        text="Antrean diperbaiki",
        evidence=SimpleUploadedFile("bukti.pdf", PDF),
        done=True,
    )
    services.case_transition(
        case, "reject_action", ombudsman, action_id=action.pk, text="Belum cukup"
    )
    assert Notification.objects.filter(event=notices.ACTION_REJECTED).count() == 1
    services.case_transition(case, "report_action", editor_a, action_id=action.pk, done=True)
    with pytest.raises(ApplicationError):  # not all actions accepted
        services.case_transition(case, "close", ombudsman)
    services.case_transition(case, "accept_action", ombudsman, action_id=action.pk)
    action.refresh_from_db()
    assert (action.status, action.on_time) == (ActionStatus.ACCEPTED, True)
    record = corrective_actions_on_time(agency_a)
    assert (record.due, record.done_on_time, record.on_time_percent) == (1, 1, 100.0)
    assert findings_record(agency_a).found == 1
    case = services.case_transition(case, "close", ombudsman)
    assert case.state == CaseState.CLOSED


def test_a_recommendation_only_past_the_deadline(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    action = CorrectiveAction.objects.get(finding__case=case)
    with pytest.raises(ApplicationError) as error_state:
        services.case_transition(
            case, "raise_recommendation", ombudsman, action_id=action.pk, text="R"
        )
    assert error_state.value.code == "state"
    assert action.due_at is not None
    later = action.due_at + dt.timedelta(days=1)
    services.case_transition(
        case, "raise_recommendation", ombudsman, action_id=action.pk, text="Segera", now=later
    )
    recommendation = Recommendation.objects.get(action=action)
    assert recommendation.due_days == 60
    assert (
        recommendation.due_at == due_in_days(calendar_national(), timezone.localdate(later), 60).at
    )
    assert Notification.objects.filter(event=notices.RECOMMENDATION_ISSUED).count() == 1


def test_stopping_needs_a_reason_and_is_final(case_a: Case, ombudsman: Any, editor_a: Any) -> None:
    case = advance(case_a, ombudsman, editor_a, "verification")
    with pytest.raises(ApplicationError):
        services.case_transition(case, "stop", ombudsman, text=" ")
    case = services.case_transition(case, "stop", ombudsman, text="Pelapor mencabut laporan")
    assert case.state == CaseState.FINAL and case.finding.outcome == "stopped"
    assert services.case_transition(case, "close", ombudsman).state == CaseState.CLOSED


def test_awaiting_information_has_a_clock(case_a: Case, ombudsman: Any, editor_a: Any) -> None:
    case = advance(case_a, ombudsman, editor_a, "verification")
    case = services.case_transition(case, "request_info", ombudsman, text="Kirim bukti")
    assert case.info_due_at is not None
    with pytest.raises(ApplicationError):  # the platform closes only once the clock ran out
        services.case_transition(case, "close_incomplete", None, system=True)
    later = case.info_due_at + dt.timedelta(seconds=1)
    case = services.case_transition(case, "close_incomplete", None, system=True, now=later)
    assert case.state == CaseState.CLOSED


def test_the_platform_closes_cases_whose_information_never_came(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    from cases.tasks import close_incomplete_task

    case = advance(case_a, ombudsman, editor_a, "verification")
    case = services.case_transition(case, "request_info", ombudsman, text="Kirim bukti")
    assert close_incomplete_task() == 0  # the clock has not run out
    assert case.info_due_at is not None
    later = case.info_due_at + dt.timedelta(minutes=1)
    assert services.cases_close_incomplete(now=later) == 1
    assert services.cases_close_incomplete(now=later) == 0
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.events.last().actor is None  # type: ignore[union-attr]
