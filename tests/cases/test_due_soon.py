"""The "due soon" reminder of a corrective action: 5 working days before its deadline on
the unit's calendar, once, to the unit and the agency admins through the outbox; none for
an action already reported done, none after the deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from agencies.calendars import CalendarDays, calendar_for_unit
from cases import notices, services
from cases.models import Case, CorrectiveAction
from cases.tasks import remind_due_soon_task
from notifications.models import Notification
from notifications.outbox import drain
from tests.cases.conftest import advance

pytestmark = pytest.mark.django_db


def _monitoring(case_a: Case, ombudsman: Any, editor_a: Any) -> tuple[Case, CorrectiveAction]:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    return case, CorrectiveAction.objects.get(finding__case=case)


def _reminders(action: CorrectiveAction) -> int:
    return Notification.objects.filter(
        event=notices.ACTION_DUE_SOON, subject_id=action.pk, parent__isnull=True
    ).count()


def test_the_reminder_falls_five_working_days_before_the_deadline(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, action = _monitoring(case_a, ombudsman, editor_a)
    assert action.remind_at is not None and action.due_at is not None
    days = CalendarDays(calendar_for_unit(case.unit))
    # Each is the end of a local day (midnight after it): the day is the second before.
    second = dt.timedelta(seconds=1)
    remind_day = days.day(days.local_date(action.remind_at - second))
    due_day = days.day(days.local_date(action.due_at - second))
    assert due_day.is_working_day
    assert remind_day.is_working_day
    assert due_day.working_day_index - remind_day.working_day_index == 5


def test_the_reminder_goes_out_once(
    case_a: Case, ombudsman: Any, editor_a: Any, admin_a: Any, unit_a: Any
) -> None:
    unit_a.contact_emails = ["layanan@unit-a.go.id"]
    unit_a.save()
    _case, action = _monitoring(case_a, ombudsman, editor_a)
    drain()  # the case's earlier messages (draft findings, the action opened)
    mail.outbox.clear()
    assert action.remind_at is not None
    assert services.actions_remind_due_soon(now=action.remind_at - dt.timedelta(minutes=1)) == 0
    assert _reminders(action) == 0
    at = action.remind_at + dt.timedelta(minutes=1)
    assert services.actions_remind_due_soon(now=at) == 1
    assert services.actions_remind_due_soon(now=at) == 0
    assert services.actions_remind_due_soon(now=at + dt.timedelta(days=2)) == 0
    assert _reminders(action) == 1
    drain()
    to = [address for m in mail.outbox for address in m.to]
    assert sorted(to) == sorted(["layanan@unit-a.go.id", admin_a.email])


def test_no_reminder_for_an_action_reported_done_or_past_due(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, action = _monitoring(case_a, ombudsman, editor_a)
    assert action.remind_at is not None and action.due_at is not None
    assert services.actions_remind_due_soon(now=action.due_at + dt.timedelta(minutes=1)) == 0
    services.case_transition(case, "report_action", editor_a, action_id=action.pk, done=True)
    assert services.actions_remind_due_soon(now=action.remind_at + dt.timedelta(minutes=1)) == 0
    assert _reminders(action) == 0


def test_the_task_is_scheduled_and_runs() -> None:
    assert PeriodicTask.objects.filter(task="cases.remind_due_soon", enabled=True).exists()
    assert remind_due_soon_task() == 0
