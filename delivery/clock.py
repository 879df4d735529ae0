"""A delivery's clock from its facts: when it started, when it falls due, the working days
it took, its status.

The one place that maps a delivery onto `agencies.calendars.clock_due`. `delivery_record`
and the status changes (one row, `CalendarDays(calendar)`) and the bulk recorder (a batch,
`CalendarDays.preloaded(calendar)`) all call these functions, so they cannot drift apart.
The set-based writer of new deliveries (`delivery.bulk.setwise`) uses `clock_start_moment`
and `status_of` as they are, and `completion_sql`, the SQL twin written next to
`completion_apply` (tests prove them equal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from agencies.calendars import CalendarDays, clock_due, working_days_between_sql
from agencies.models import Unit
from delivery.models import DeliveryStatus, Outcome, ServiceDelivery
from services.models import ClockStart, TimeUnit

DAY_UNITS = (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS)


def clock_start_moment(
    clock_rule: str, *, submitted_at: dt.datetime, file_complete_at: dt.datetime | None
) -> dt.datetime | None:
    """When the clock starts under the standard's `clock_start` rule (None: not yet)."""
    return submitted_at if clock_rule == ClockStart.ON_RECEIPT else file_complete_at


def clock_apply(
    delivery: ServiceDelivery, *, days: CalendarDays, clock_rule: str, unit: Unit | None = None
) -> None:
    """Set the clock start and the due date from the delivery's facts.

    `clock_rule` is the standard version's `clock_start`; `unit` the delivery's unit when
    the caller has it at hand (read from the delivery otherwise, and only for hour and
    minute promises, which count within its service hours).
    """
    started_at = clock_start_moment(
        clock_rule, submitted_at=delivery.submitted_at, file_complete_at=delivery.file_complete_at
    )
    service_hours: tuple[dt.time, dt.time] | None = None
    if started_at is not None and delivery.promise_unit not in DAY_UNITS:
        hours_of = unit if unit is not None else delivery.unit
        service_hours = (hours_of.opens_at, hours_of.closes_at)
    clock = clock_due(
        days,
        started_at=started_at,
        promise_value=delivery.promise_value,
        promise_unit=delivery.promise_unit,
        paused_working_days=delivery.paused_working_days,
        paused_minutes=delivery.paused_minutes,
        extended_due_date=delivery.extended_due_date,
        service_hours=service_hours,
    )
    delivery.clock_started_at = started_at
    delivery.clock_start_date = clock.start_date
    delivery.due_date = clock.due_date
    delivery.due_at = clock.due_at


def completion_apply(delivery: ServiceDelivery, *, days: CalendarDays) -> None:
    """The working days the request took, its pauses not counted (None while open)."""
    if delivery.completed_at is None or delivery.clock_start_date is None:
        delivery.working_days_taken = None
        return
    end = days.local_date(delivery.completed_at)
    delivery.working_days_taken = max(
        0,
        days.working_days_between(delivery.clock_start_date, end) - delivery.paused_working_days,
    )


def completion_sql(
    *, start: str, end: str, start_date: str, end_date: str, paused_working_days: str
) -> str:
    """`completion_apply` as an SQL expression, for set-based writes: `start` and `end` are
    aliases of the calendar-day table joined on the clock-start date and the local date of
    completion (`start_date`, `end_date`: SQL expressions, NULL when not started or not
    completed); the caller requires both rows when the end is after the start."""
    between = working_days_between_sql(
        start=start, end=end, start_date=start_date, end_date=end_date
    )
    return (
        f"CASE WHEN {end_date} IS NULL OR {start_date} IS NULL THEN NULL"
        f" WHEN ({between}) - {paused_working_days} < 0 THEN 0"
        f" ELSE ({between}) - {paused_working_days} END"
    )


class Facts(Protocol):
    """What the status is read from: a delivery, or a row about to be written."""

    @property
    def outcome(self) -> str: ...
    @property
    def completed_at(self) -> dt.datetime | None: ...
    @property
    def clock_started_at(self) -> dt.datetime | None: ...


def status_of(delivery: Facts, *, paused: bool | Callable[[], bool]) -> str:
    """The status the facts give. `paused`: whether a pause has not ended yet, or how to
    find out (asked only when the facts do not settle the status first)."""
    if delivery.outcome == Outcome.WITHDRAWN:
        return DeliveryStatus.WITHDRAWN
    if delivery.completed_at is not None:
        return DeliveryStatus.COMPLETED
    if paused() if callable(paused) else paused:
        return DeliveryStatus.PAUSED
    if delivery.clock_started_at is None:
        return DeliveryStatus.WAITING
    return DeliveryStatus.OPEN
