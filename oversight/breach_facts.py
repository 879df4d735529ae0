"""What a breach page says the breach is about: the promise as it stood, the request's
timeline, the measured figure against the promise, the compensation owed and what happens
next if nobody answers.

Every figure comes from its one home: working days from the one clock
(agencies/calendars.py), compensation from oversight/compensation.py, the ladder's
thresholds from oversight/escalation.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.calendars import (
    calendar_for_unit,
    due_in_days,
    local_date,
    working_days_between,
)
from core.errors import ApplicationError
from delivery.models import DeliveryPause, ServiceDelivery
from oversight.compensation import Compensation, breach_compensation
from oversight.escalation import TOP_LEVEL, ladder_for
from oversight.models import Breach, BreachEscalation, BreachKind, BreachStatus
from services.models import ClockStart, StandardVersion, TimeUnit

# Breaches about time: how late the request is (or was) against its due date.
TIME_KINDS = frozenset({BreachKind.LATE_DELIVERY, BreachKind.OVERDUE_OPEN, BreachKind.AT_RISK})

LEVEL_LABELS = {
    1: _("the head of the unit"),
    2: _("the agency head and its admins"),
    3: _("the ombudsman's review desk"),
}


@dataclass(frozen=True)
class Promise:
    """The standard version in force when the request was submitted (or the version the
    breach names), and the time and cost it promised."""

    version: StandardVersion | None
    time_value: int | None
    time_unit: str
    time_unit_label: str
    clock_start_label: str
    cost: int | None


@dataclass(frozen=True)
class TimelineEntry:
    key: str
    label: Any
    at: dt.datetime | dt.date | None
    detail: str = ""
    amount: int | None = None  # rupiah

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, dt.datetime)


@dataclass(frozen=True)
class Measured:
    """The figure against the promise: working days late (time kinds) and the amount over
    the published cost (overcharges)."""

    due_date: dt.date | None = None
    end_date: dt.date | None = None  # completion, or today while still open
    still_open: bool = False
    working_days_late: int | None = None
    working_days_taken: int | None = None
    fee_charged: int | None = None
    promised_cost: int | None = None
    over_by: int | None = None
    calendar_gap: bool = False  # the calendar does not cover the dates


@dataclass(frozen=True)
class NextStep:
    """The ladder's next step if nobody answers: to whom and from which day (None when
    the ladder has stopped: answered, closed, or already at the top)."""

    level: int | None
    to: Any
    on: dt.date | None
    stopped_because: Any = ""


@dataclass(frozen=True)
class BreachFacts:
    promise: Promise | None
    timeline: list[TimelineEntry] = field(default_factory=list)
    measured: Measured | None = None
    compensation: Compensation | None = None
    next_step: NextStep | None = None
    escalation: BreachEscalation | None = None


def _promise(breach: Breach, delivery: ServiceDelivery | None) -> Promise | None:
    version = delivery.version if delivery is not None else breach.version
    value: int | None
    if delivery is not None:
        value, unit, cost = delivery.promise_value, delivery.promise_unit, delivery.promised_cost
    elif version is not None:
        value, unit, cost = (
            version.processing_time_value,
            version.processing_time_unit,
            version.total_cost,
        )
    else:
        return None
    clock = version.clock_start if version is not None else ""
    return Promise(
        version=version,
        time_value=value,
        time_unit=unit or "",
        time_unit_label=str(dict(TimeUnit.choices).get(unit, unit or "")),
        clock_start_label=str(dict(ClockStart.choices).get(clock, "")) if clock else "",
        cost=cost,
    )


def _timeline(delivery: ServiceDelivery, pauses: list[DeliveryPause]) -> list[TimelineEntry]:
    entries = [TimelineEntry("submitted", _("Submitted"), delivery.submitted_at)]
    if delivery.file_complete_at is not None:
        entries.append(
            TimelineEntry("file_complete", _("File complete"), delivery.file_complete_at)
        )
    for pause in pauses:
        entries.append(TimelineEntry("paused", _("Paused"), pause.started_at, pause.reason))
        if pause.ended_at is not None:
            entries.append(TimelineEntry("resumed", _("Resumed"), pause.ended_at))
    if delivery.extended_due_date is not None:
        entries.append(
            TimelineEntry(
                "extended",
                _("Due date extended to"),
                delivery.extended_due_date,
                delivery.extension_reason,
            )
        )
    entries.append(TimelineEntry("due", _("Due"), delivery.due_at or delivery.due_date))
    if delivery.completed_at is not None:
        entries.append(TimelineEntry("completed", _("Completed"), delivery.completed_at))
        entries.append(
            TimelineEntry("fee", _("Fee paid"), delivery.completed_at, amount=delivery.fee_charged)
        )
    return entries


def _measured(breach: Breach, delivery: ServiceDelivery, today: dt.date | None) -> Measured:
    due = delivery.extended_due_date or delivery.due_date
    calendar = delivery.calendar
    still_open = delivery.completed_at is None
    end = (
        local_date(delivery.completed_at, calendar.utc_offset_hours)
        if delivery.completed_at is not None
        else today or local_date(timezone.now(), calendar.utc_offset_hours)
    )
    late: int | None = None
    gap = False
    if breach.kind in TIME_KINDS and due is not None:
        try:
            late = working_days_between(calendar, due, end)
        except ApplicationError:
            gap = True
    over = None
    if breach.kind == BreachKind.OVERCHARGE:
        over = max(delivery.fee_charged - delivery.promised_cost, 0)
    return Measured(
        due_date=due,
        end_date=end,
        still_open=still_open,
        working_days_late=late,
        working_days_taken=delivery.working_days_taken,
        fee_charged=delivery.fee_charged,
        promised_cost=delivery.promised_cost,
        over_by=over,
        calendar_gap=gap,
    )


def _next_step(breach: Breach, escalation: BreachEscalation | None) -> NextStep:
    """The ladder's next level and the day it is reached (oversight/escalation.py's rule:
    the Nth working day of the unit's calendar after the day the breach was detected)."""
    level = escalation.level if escalation is not None else 0
    if breach.status != BreachStatus.OPEN or (
        escalation is not None and escalation.acknowledged_at is not None
    ):
        return NextStep(
            None, "", None, _("The unit has answered: the breach escalates no further.")
        )
    if level >= TOP_LEVEL:
        return NextStep(
            None, "", None, _("The breach is at the top of the ladder: the ombudsman reviews it.")
        )
    thresholds = ladder_for(breach.agency_id)
    target = level + 1
    try:
        on: dt.date | None = due_in_days(
            calendar_for_unit(breach.unit),
            timezone.localdate(breach.detected_at),
            thresholds[level],
        ).date
    except ApplicationError:
        on = None
    return NextStep(target, LEVEL_LABELS[target], on)


def breach_facts(breach: Breach, *, today: dt.date | None = None) -> BreachFacts:
    """The facts a breach page shows; a handful of queries whatever the data size."""
    delivery = breach.delivery
    escalation = BreachEscalation.objects.filter(breach=breach).first()
    compensation: Compensation | None = None
    try:
        compensation = breach_compensation(breach, today=today)
    except ApplicationError:  # the delivery's calendar does not cover the dates yet
        compensation = None
    timeline: list[TimelineEntry] = []
    measured: Measured | None = None
    if delivery is not None:
        timeline = _timeline(delivery, list(delivery.pauses.order_by("started_at", "pk")))
        measured = _measured(breach, delivery, today)
    return BreachFacts(
        promise=_promise(breach, delivery),
        timeline=timeline,
        measured=measured,
        compensation=compensation,
        next_step=_next_step(breach, escalation),
        escalation=escalation,
    )
