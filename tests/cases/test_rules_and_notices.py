"""The sweep watches the ombudsman's deadlines (an overdue corrective action, an unanswered
request: a breach each, exactly once), and the outbox carries the cases' messages to the
unit and the agency admins, and the agency's answers to the reviewers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from cases import notices, services
from cases.models import Case, CorrectiveAction
from notifications.models import Notification
from notifications.outbox import drain
from oversight.models import Breach
from oversight.notices import BREACH_CREATED
from oversight.sweep import sweep
from tests.cases.conftest import advance

pytestmark = pytest.mark.django_db


def _monitoring(case_a: Case, ombudsman: Any, editor_a: Any) -> tuple[Case, CorrectiveAction]:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    return case, CorrectiveAction.objects.get(finding__case=case)


def test_an_overdue_action_becomes_a_breach_exactly_once(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, action = _monitoring(case_a, ombudsman, editor_a)
    assert action.due_at is not None
    before = action.due_at - dt.timedelta(minutes=1)
    sweep(now=before)
    assert not Breach.objects.filter(kind="corrective_action_overdue").exists()
    after = action.due_at + dt.timedelta(minutes=1)
    sweep(now=after)
    sweep(now=after + dt.timedelta(hours=1))
    sweep(now=after + dt.timedelta(days=3))  # and again, later: still one
    breach = Breach.objects.get(kind="corrective_action_overdue")
    assert (breach.subject_type, breach.subject_id, breach.unit_id, breach.agency_id) == (
        "action",
        action.pk,
        case.unit_id,
        case.agency_id,
    )
    assert breach.occurred_at == action.due_at
    assert (
        Notification.objects.filter(
            event=BREACH_CREATED, subject_id=breach.pk, recipient=""
        ).count()
        == 1
    )


def test_a_reported_or_accepted_action_is_not_a_breach(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, action = _monitoring(case_a, ombudsman, editor_a)
    services.case_transition(case, "report_action", editor_a, action_id=action.pk, done=True)
    assert action.due_at is not None
    sweep(now=action.due_at + dt.timedelta(days=1))
    assert not Breach.objects.filter(kind="corrective_action_overdue").exists()


def test_a_rejected_action_past_its_deadline_is_a_breach(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, action = _monitoring(case_a, ombudsman, editor_a)
    assert action.due_at is not None
    sweep(now=action.due_at - dt.timedelta(days=1))
    services.case_transition(case, "report_action", editor_a, action_id=action.pk, done=True)
    services.case_transition(
        case, "reject_action", ombudsman, action_id=action.pk, text="Bukti kurang"
    )
    sweep(now=action.due_at + dt.timedelta(days=1))
    assert (
        Breach.objects.filter(kind="corrective_action_overdue", subject_id=action.pk).count() == 1
    )


def test_an_unanswered_request_becomes_a_breach_once(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "examination")
    case = services.case_transition(case, "request_explanation", ombudsman, text="Mengapa?")
    request = case.requests.get()
    sweep(now=request.due_at + dt.timedelta(minutes=1))
    sweep(now=request.due_at + dt.timedelta(days=2))
    assert Breach.objects.filter(kind="explanation_overdue", subject_id=request.pk).count() == 1


def test_the_unit_and_the_agency_admins_hear_and_the_reviewer_hears_back(
    case_a: Case, ombudsman: Any, editor_a: Any, admin_a: Any, unit_a: Any
) -> None:
    unit_a.contact_emails = ["layanan@unit-a.go.id"]
    unit_a.save()
    ombudsman.email = "pemeriksa@ombudsman.go.id"
    ombudsman.save()
    case = advance(case_a, ombudsman, editor_a, "examination")
    case = services.case_transition(case, "request_explanation", ombudsman, text="Mengapa?")
    drain()
    sent = {address for m in mail.outbox for address in m.to if case.reference in str(m.subject)}
    assert {"layanan@unit-a.go.id", admin_a.email} <= sent
    assert ombudsman.email not in sent
    assert Notification.objects.filter(
        event=notices.EXPLANATION_REQUESTED, channel="inapp", user=editor_a
    ).exists()
    mail.outbox.clear()
    request = case.requests.get()
    services.case_transition(case, "answer_explanation", editor_a, request_id=request.pk, text="Ok")
    drain()
    assert [m.to for m in mail.outbox] == [[ombudsman.email]]
    assert f"/staff/cases/{case.pk}/" in str(mail.outbox[0].body)
    assert Notification.objects.filter(
        event=notices.AGENCY_ANSWERED, channel="inapp", user=ombudsman
    ).exists()


def test_two_requests_on_one_case_are_two_messages(
    case_a: Case, ombudsman: Any, editor_a: Any, unit_a: Any
) -> None:
    unit_a.contact_emails = ["layanan@unit-a.go.id"]
    unit_a.save()
    case = advance(case_a, ombudsman, editor_a, "examination")
    for question in ("Satu?", "Dua?"):
        case = services.case_transition(case, "request_explanation", ombudsman, text=question)
    drain()
    to_unit = [m for m in mail.outbox if m.to == ["layanan@unit-a.go.id"]]
    assert len(to_unit) == 2
