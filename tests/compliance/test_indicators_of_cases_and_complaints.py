"""The two computed indicators read from the apps that came after the methods: complaint
handling on time (feedback.complaints) and corrective actions done on time (cases), each on
a hand-computed example, with what falls outside the period left out."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from django.utils import timezone

from cases.models import ActionStatus, CorrectiveAction
from compliance import indicators
from feedback.complaints.models import Complaint
from tests.cases.conftest import advance, case_a, svc_a  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

ZONE = timezone.get_fixed_timezone(7 * 60)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)


def _subject(agency: Any, year: int) -> indicators.Subject:
    return indicators.Subject(
        agency=agency, unit=None, starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31)
    )


def _complaint(agency: Any, unit: Any, due: dt.datetime, answered: dt.datetime | None) -> None:
    Complaint.objects.create(
        agency=agency,
        unit=unit,
        category="time",
        occurred_on=due.date() - dt.timedelta(days=10),
        description="Lama sekali",
        received_at=due - dt.timedelta(days=8),
        answer_due_at=due,
        first_answered_at=answered,
    )


def test_complaints_answered_in_time_over_those_due_in_the_period(
    agency_a: Any, unit_a: Any, agency_b: Any, unit_b: Any
) -> None:
    year = timezone.localdate().year - 1
    due = _at(dt.date(year, 3, 10))
    _complaint(agency_a, unit_a, due, due - dt.timedelta(days=1))  # in time
    _complaint(agency_a, unit_a, due, due)  # at the due time: in time
    _complaint(agency_a, unit_a, due, due + dt.timedelta(hours=1))  # late
    _complaint(agency_a, unit_a, due, None)  # never answered, long past due: late
    # Outside the period, and another agency's: not counted.
    _complaint(agency_a, unit_a, _at(dt.date(year - 1, 12, 30)), None)
    _complaint(agency_b, unit_b, due, None)
    reading = indicators.compute("complaint_handling_time", _subject(agency_a, year))
    assert reading is not None
    assert reading.figures["due"] == 4
    assert reading.figures["answered_in_time"] == 2
    assert reading.score == Fraction(50)


def test_a_complaint_not_yet_due_is_not_counted(agency_a: Any, unit_a: Any) -> None:
    today = timezone.localdate()
    _complaint(agency_a, unit_a, timezone.now() + dt.timedelta(hours=2), None)
    subject = indicators.Subject(
        agency=agency_a,
        unit=None,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=30),
    )
    reading = indicators.compute("complaint_handling_time", subject)
    assert reading is not None
    assert (reading.figures["due"], reading.score) == (0, None)


def test_corrective_actions_done_on_time_over_those_due_in_the_period(
    case_a: Any,  # noqa: F811
    ombudsman: Any,
    editor_a: Any,
    agency_a: Any,
) -> None:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    first = CorrectiveAction.objects.get(finding__case=case)
    year = timezone.localdate().year - 1
    due = _at(dt.date(year, 6, 15))
    rows = [first]
    for _ in range(3):
        copy = CorrectiveAction.objects.get(pk=first.pk)
        copy.pk = None
        copy.save()
        rows.append(copy)
    # Hand-made: accepted on time, accepted late, still open past its deadline, and one due
    # the year before (outside the period).
    outcomes = [
        (due, ActionStatus.ACCEPTED, True),
        (due, ActionStatus.ACCEPTED, False),
        (due, first.status, None),
        (_at(dt.date(year - 1, 6, 15)), ActionStatus.ACCEPTED, True),
    ]
    for row, (due_at, status, on_time) in zip(rows, outcomes, strict=True):
        CorrectiveAction.objects.filter(pk=row.pk).update(
            due_at=due_at, status=status, on_time=on_time
        )
    reading = indicators.compute("corrective_actions_on_time", _subject(agency_a, year))
    assert reading is not None
    assert (reading.figures["due"], reading.figures["done_on_time"]) == (3, 1)
    assert (reading.figures["done_late"], reading.figures["pending"]) == (1, 1)
    assert reading.score == Fraction(100, 3)
    # The year before holds only the one done on time.
    before = indicators.compute("corrective_actions_on_time", _subject(agency_a, year - 1))
    assert before is not None and before.score == Fraction(100)
