"""Work calendars: materialised days with a running working-day index.

Counting convention (DOMAIN.md, the default): the clock-start date is not counted; a
promise of N working days is due by the end of the Nth working day after it. A promise
in calendar days counts every day the same way. Minutes and hours count only inside the
unit's service hours on working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import holidays
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.models import Calendar, CalendarDay, CalendarException, Unit
from core.errors import ApplicationError, PermissionDeniedError
from core.signals import calendar_changed

NATIONAL_SLUG = "nasional"
DEFAULT_WEEKEND = (5, 6)  # Saturday, Sunday


def calendar_national() -> Calendar:
    calendar, _ = Calendar.objects.get_or_create(
        slug=NATIONAL_SLUG,
        defaults={"name": "Kalender Nasional", "weekend_days": list(DEFAULT_WEEKEND)},
    )
    return calendar


def calendar_for_unit(unit: Unit) -> Calendar:
    """The unit's own calendar, else its agency's, else the national one."""
    if unit.calendar_id:
        return unit.calendar  # type: ignore[return-value]
    if unit.agency.calendar_id:
        return unit.agency.calendar  # type: ignore[return-value]
    return calendar_national()


def default_span() -> tuple[int, int]:
    year = timezone.localdate().year
    return (
        year - settings.MAKLUMAT["CALENDAR_YEARS_BACK"],
        year + settings.MAKLUMAT["CALENDAR_YEARS_AHEAD"],
    )


@cache
def _national_holidays(year: int, cuti_bersama: bool) -> dict[dt.date, str]:
    days = dict(holidays.country_holidays("ID", years=year, language="id").items())
    if cuti_bersama:
        government = holidays.country_holidays(
            "ID", years=year, language="id", categories=("government",)
        )
        for day, name in government.items():
            days.setdefault(day, name)
    return days


def _chain(calendar: Calendar) -> list[Calendar]:
    chain = [calendar]
    while chain[-1].parent_id is not None:
        chain.append(chain[-1].parent)  # type: ignore[arg-type]
    return list(reversed(chain))


def closed_days(calendar: Calendar, first_year: int, last_year: int) -> dict[dt.date, str]:
    """Every closed day of the span with its name (weekends named "")."""
    weekend = set(calendar.weekend_days or DEFAULT_WEEKEND)
    closed: dict[dt.date, str] = {}
    day = dt.date(first_year, 1, 1)
    end = dt.date(last_year, 12, 31)
    while day <= end:
        if day.weekday() in weekend:
            closed[day] = ""
        day += dt.timedelta(days=1)
    if calendar.use_national_holidays:
        for year in range(first_year, last_year + 1):
            closed.update(_national_holidays(year, calendar.closed_on_cuti_bersama))
    # Hand-set days, root calendar first, so a region overrides the nation and a unit its region.
    for link in _chain(calendar):
        for exception in link.exceptions.filter(
            date__year__gte=first_year, date__year__lte=last_year
        ):
            if exception.kind == CalendarException.Kind.WORKING_DAY:
                closed.pop(exception.date, None)
            else:
                closed[exception.date] = exception.name
    return closed


def _day_end(day: dt.date, utc_offset_hours: int) -> dt.datetime:
    local_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0))
    return (local_midnight - dt.timedelta(hours=utc_offset_hours)).replace(tzinfo=dt.UTC)


@transaction.atomic
def calendar_rebuild(
    calendar: Calendar, *, span: tuple[int, int] | None = None, notify: bool = True
) -> set[dt.date]:
    """Materialise the calendar's days (and its children's). Returns the dates whose
    working status changed, and announces them so due dates can move."""
    first_year, last_year = span or default_span()
    closed = closed_days(calendar, first_year, last_year)
    before = dict(
        CalendarDay.objects.filter(
            calendar=calendar, date__year__gte=first_year, date__year__lte=last_year
        ).values_list("date", "is_working_day")
    )
    rows = []
    index = 0
    day = dt.date(first_year, 1, 1)
    end = dt.date(last_year, 12, 31)
    while day <= end:
        working = day not in closed
        index += int(working)
        rows.append(
            CalendarDay(
                calendar=calendar,
                date=day,
                ordinal=day.toordinal(),
                is_working_day=working,
                working_day_index=index,
                day_end=_day_end(day, calendar.utc_offset_hours),
                name=closed.get(day, ""),
            )
        )
        day += dt.timedelta(days=1)
    CalendarDay.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["calendar", "date"],
        update_fields=["ordinal", "is_working_day", "working_day_index", "day_end", "name"],
    )
    changed = {r.date for r in rows if r.date in before and before[r.date] != r.is_working_day}
    if not before:
        changed = set()
    for child in calendar.children.all():
        changed |= calendar_rebuild(child, span=(first_year, last_year), notify=notify)
    if notify and changed:
        calendar_ids = [calendar.pk, *_descendant_ids(calendar)]
        since = min(changed)
        calendar_changed.send(sender=Calendar, calendar_ids=calendar_ids, since=since)
    return changed


def _descendant_ids(calendar: Calendar) -> list[int]:
    ids: list[int] = []
    frontier = [calendar.pk]
    while frontier:
        children = list(
            Calendar.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        ids += children
        frontier = children
    return ids


def _check_manage(user: Any, calendar: Calendar) -> None:
    """National and regional calendars are for superusers; a unit's own calendar for its agency admins."""
    if user is None or user.is_superuser:
        return
    from agencies.policy import Action, can

    units = Unit.objects.filter(calendar=calendar).select_related("agency")
    if not units or not all(can(user, Action.MANAGE_AGENCY, u) for u in units):
        raise PermissionDeniedError()


@transaction.atomic
def calendar_day_set(
    *, calendar: Calendar, date: dt.date, kind: str, name: str, acting_user: Any = None
) -> CalendarException:
    """Add or move a day by hand (e.g. cuti bersama moved by decree); due dates follow."""
    _check_manage(acting_user, calendar)
    if kind not in CalendarException.Kind.values:
        raise ApplicationError("Unknown kind of day.", field="kind")
    exception, _ = CalendarException.objects.update_or_create(
        calendar=calendar,
        date=date,
        defaults={"kind": kind, "name": name, "created_by": acting_user},
    )
    calendar_rebuild(calendar, span=_span_with(date))
    return exception


@transaction.atomic
def calendar_day_remove(*, calendar: Calendar, date: dt.date, acting_user: Any = None) -> None:
    _check_manage(acting_user, calendar)
    deleted, _ = CalendarException.objects.filter(calendar=calendar, date=date).delete()
    if deleted:
        calendar_rebuild(calendar, span=_span_with(date))


def _span_with(day: dt.date) -> tuple[int, int]:
    first, last = default_span()
    return min(first, day.year), max(last, day.year)


# --- Due dates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    date: dt.date
    at: dt.datetime


def _day(calendar_id: int, **lookup: Any) -> CalendarDay:
    day = CalendarDay.objects.filter(calendar_id=calendar_id, **lookup).first()
    if day is None:
        raise ApplicationError(
            "The work calendar does not cover this date; extend its span.", code="calendar_span"
        )
    return day


def due_in_days(
    calendar: Calendar,
    start: dt.date,
    days: int,
    *,
    working: bool = True,
    extra_working_days: int = 0,
) -> Due:
    """N (working or calendar) days after `start`, `start` not counted."""
    if working:
        start_index = _day(calendar.pk, date=start).working_day_index
        target = _day(
            calendar.pk,
            is_working_day=True,
            working_day_index=start_index + days + extra_working_days,
        )
    else:
        target = _day(calendar.pk, ordinal=start.toordinal() + days + extra_working_days)
    return Due(target.date, target.day_end)


def due_in_minutes(
    calendar: Calendar,
    start: dt.datetime,
    minutes: int,
    *,
    opens_at: dt.time,
    closes_at: dt.time,
) -> Due:
    """`minutes` of service time from `start`, counted only within service hours on working days."""
    offset = dt.timedelta(hours=calendar.utc_offset_hours)
    local = (start.astimezone(dt.UTC) + offset).replace(tzinfo=None)
    remaining = dt.timedelta(minutes=minutes)
    days = (
        CalendarDay.objects.filter(calendar=calendar, date__gte=local.date(), is_working_day=True)
        .order_by("date")
        .values_list("date", flat=True)
    )
    for day in days.iterator(chunk_size=64):
        window_start = dt.datetime.combine(day, opens_at)
        window_end = dt.datetime.combine(day, closes_at)
        begin = max(window_start, local) if day == local.date() else window_start
        if begin >= window_end:
            continue
        available = window_end - begin
        if remaining <= available:
            finish = begin + remaining
            return Due(day, (finish - offset).replace(tzinfo=dt.UTC))
        remaining -= available
    raise ApplicationError(
        "The work calendar does not cover this date; extend its span.", code="calendar_span"
    )


def working_days_between(calendar: Calendar, start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    indexes = dict(
        CalendarDay.objects.filter(calendar=calendar, date__in=[start, end]).values_list(
            "date", "working_day_index"
        )
    )
    if start not in indexes or end not in indexes:
        raise ApplicationError(
            "The work calendar does not cover this date; extend its span.", code="calendar_span"
        )
    return indexes[end] - indexes[start]


def reference_due_date(closed: Iterable[dt.date], start: dt.date, days: int) -> dt.date:
    """The plain Python twin of `due_in_days` (for tests): walk forward day by day."""
    closed_set = set(closed)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if day not in closed_set:
            counted += 1
    return day
