"""Work calendars: materialised days with a running working-day index.

Counting convention (DOMAIN.md, the default): the clock-start date is not counted; a
promise of N working days is due by the end of the Nth working day after it. A promise
in calendar days counts every day the same way. Minutes and hours count only inside the
unit's service hours on working days.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import holidays
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

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


def calendar_for_unit(
    unit: Unit, *, national: Callable[[], Calendar] = calendar_national
) -> Calendar:
    """The unit's own calendar, else its agency's, else the national one (`national`: how
    to get it, for a caller that keeps it at hand)."""
    if unit.calendar_id:
        return unit.calendar  # type: ignore[return-value]
    if unit.agency.calendar_id:
        return unit.agency.calendar  # type: ignore[return-value]
    return national()


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
#
# The one clock. `clock_due` computes a due date from a clock's facts; the lookups it needs
# come from a `CalendarDays`, which reads the calendar's days one indexed query at a time
# (one row: a form, a status change) or, `CalendarDays.preloaded`, all at once (a batch: the
# bulk API, the CSV import). Both answer every lookup from the same rows, so one row and a
# batch get the same due dates; `due_day_sql` is the same rule written for a set-based
# UPDATE (the recompute after a calendar change).

# Marked for translation here; a caller that shows per-item messages translates it.
SPAN_MESSAGE = gettext_noop("The work calendar does not cover this date; extend its span.")
# The units of a promised time, by value (services.models.TimeUnit; agencies sits below
# services, so the clock knows them by their values).
WORKING_DAYS, CALENDAR_DAYS, HOURS, MINUTES = "working_days", "calendar_days", "hours", "minutes"
DAY_UNITS = (WORKING_DAYS, CALENDAR_DAYS)
PROMISE_UNITS = (*DAY_UNITS, HOURS, MINUTES)


def _span_error() -> ApplicationError:
    return ApplicationError(SPAN_MESSAGE, code="calendar_span")


@dataclass(frozen=True)
class Due:
    date: dt.date
    at: dt.datetime


class Clock(NamedTuple):
    """Where a clock stands: the local date it started on and when it falls due (all None
    while it has not started; `due_at` None for an extended date outside the calendar)."""

    start_date: dt.date | None
    due_date: dt.date | None
    due_at: dt.datetime | None


class _Day(NamedTuple):
    date: dt.date
    working_day_index: int
    is_working_day: bool
    day_end: dt.datetime


_DAY_COLUMNS = ("date", "working_day_index", "is_working_day", "day_end")


def local_date(moment: dt.datetime, utc_offset_hours: int) -> dt.date:
    """The date of `moment` in a calendar's time zone (WIB, WITA or WIT)."""
    return (moment.astimezone(dt.UTC) + dt.timedelta(hours=utc_offset_hours)).date()


class CalendarDays:
    """One calendar's materialised days, as the due-date rules read them.

    Built on a calendar, each lookup is one indexed query: right for one row. Built with
    `preloaded`, the whole calendar is read once and every lookup is a dictionary lookup:
    right for a batch. The rules below are written once, against these lookups.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar_id = calendar.pk
        self.utc_offset_hours = calendar.utc_offset_hours

    @classmethod
    def preloaded(cls, calendar: Calendar) -> CalendarDays:
        return _PreloadedDays(calendar)

    # The lookups (one query each here; dictionaries in _PreloadedDays).
    def day_on(self, date: dt.date) -> _Day | None:
        return self.days_on([date]).get(date)

    def days_on(self, dates: Iterable[dt.date]) -> dict[dt.date, _Day]:
        rows = CalendarDay.objects.filter(
            calendar_id=self.calendar_id, date__in=list(dates)
        ).values_list(*_DAY_COLUMNS)
        return {row[0]: _Day(*row) for row in rows}

    def working_day(self, index: int) -> _Day | None:
        row = (
            CalendarDay.objects.filter(
                calendar_id=self.calendar_id, is_working_day=True, working_day_index=index
            )
            .values_list(*_DAY_COLUMNS)
            .first()
        )
        return _Day(*row) if row else None

    def working_dates_from(self, date: dt.date) -> Iterator[dt.date]:
        """The working days from `date` (included) on, in order."""
        dates = (
            CalendarDay.objects.filter(
                calendar_id=self.calendar_id, date__gte=date, is_working_day=True
            )
            .order_by("date")
            .values_list("date", flat=True)
        )
        return dates.iterator(chunk_size=64)

    # The rules.
    def day(self, date: dt.date) -> _Day:
        day = self.day_on(date)
        if day is None:
            raise _span_error()
        return day

    def day_end(self, date: dt.date) -> dt.datetime | None:
        """The instant `date` ends locally; None outside the materialised span."""
        day = self.day_on(date)
        return day.day_end if day else None

    def local_date(self, moment: dt.datetime) -> dt.date:
        return local_date(moment, self.utc_offset_hours)

    def due_in_days(
        self, start: dt.date, days: int, *, working: bool = True, extra_working_days: int = 0
    ) -> Due:
        """N (working or calendar) days after `start`, `start` not counted."""
        if working:
            target = self.working_day(self.day(start).working_day_index + days + extra_working_days)
            if target is None:
                raise _span_error()
        else:
            try:
                date = dt.date.fromordinal(start.toordinal() + days + extra_working_days)
            except (ValueError, OverflowError):
                raise _span_error() from None
            target = self.day(date)
        return Due(target.date, target.day_end)

    def due_in_minutes(
        self, start: dt.datetime, minutes: int, *, opens_at: dt.time, closes_at: dt.time
    ) -> Due:
        """`minutes` of service time from `start`, counted only within service hours on
        working days."""
        offset = dt.timedelta(hours=self.utc_offset_hours)
        local = (start.astimezone(dt.UTC) + offset).replace(tzinfo=None)
        remaining = dt.timedelta(minutes=minutes)
        for day in self.working_dates_from(local.date()):
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
        raise _span_error()

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        if end <= start:
            return 0
        days = self.days_on([start, end])
        if start not in days or end not in days:
            raise _span_error()
        return days[end].working_day_index - days[start].working_day_index


class _PreloadedDays(CalendarDays):
    """The whole calendar in memory: {date: day} and {working_day_index: working day}."""

    def __init__(self, calendar: Calendar) -> None:
        super().__init__(calendar)
        self._days: dict[dt.date, _Day] = {}
        self._working: dict[int, _Day] = {}
        rows = CalendarDay.objects.filter(calendar_id=self.calendar_id).values_list(*_DAY_COLUMNS)
        for row in rows:
            day = _Day(*row)
            self._days[day.date] = day
            if day.is_working_day:
                self._working[day.working_day_index] = day
        self._working_dates = sorted(day.date for day in self._working.values())

    def day_on(self, date: dt.date) -> _Day | None:
        return self._days.get(date)

    def days_on(self, dates: Iterable[dt.date]) -> dict[dt.date, _Day]:
        return {date: self._days[date] for date in dates if date in self._days}

    def working_day(self, index: int) -> _Day | None:
        return self._working.get(index)

    def working_dates_from(self, date: dt.date) -> Iterator[dt.date]:
        first = bisect.bisect_left(self._working_dates, date)
        return iter(self._working_dates[first:])


def _days(calendar: Calendar | CalendarDays) -> CalendarDays:
    return calendar if isinstance(calendar, CalendarDays) else CalendarDays(calendar)


def clock_due(
    days: CalendarDays,
    *,
    started_at: dt.datetime | None,
    promise_value: int,
    promise_unit: str,
    paused_working_days: int = 0,
    paused_minutes: int = 0,
    extended_due_date: dt.date | None = None,
    service_hours: tuple[dt.time, dt.time] | None = None,
) -> Clock:
    """The due date of a clock started at `started_at` (None: not started yet).

    The one rule, for one row and for a batch alike (see `CalendarDays`). An extension
    replaces the promise; a pause adds its working days (day promises) or its minutes
    (hour and minute promises, counted within `service_hours`, (opens_at, closes_at)).
    """
    if started_at is None:
        return Clock(None, None, None)
    start_date = days.local_date(started_at)
    if extended_due_date is not None:
        return Clock(start_date, extended_due_date, days.day_end(extended_due_date))
    if promise_unit in DAY_UNITS:
        due = days.due_in_days(
            start_date,
            promise_value,
            working=promise_unit == WORKING_DAYS,
            extra_working_days=paused_working_days,
        )
    else:
        if service_hours is None:
            raise ValueError("An hour or minute promise needs the unit's service hours.")
        minutes = promise_value * (60 if promise_unit == HOURS else 1)
        opens_at, closes_at = service_hours
        due = days.due_in_minutes(
            started_at, minutes + paused_minutes, opens_at=opens_at, closes_at=closes_at
        )
    return Clock(start_date, due.date, due.at)


def due_day_sql(*, start: str, target: str, days: str, working: bool) -> str:
    """`CalendarDays.due_in_days` as a join condition, for set-based updates: `start` and
    `target` are aliases of the calendar-day table, `days` an SQL expression of the days
    to count (pauses included)."""
    if working:
        # N working days after the start: the working day whose running index is N further on.
        return (
            f"{target}.is_working_day AND {target}.working_day_index"
            f" = {start}.working_day_index + {days}"
        )
    return f"{target}.ordinal = {start}.ordinal + {days}"


def working_days_between_sql(*, start: str, end: str, start_date: str, end_date: str) -> str:
    """`CalendarDays.working_days_between` as an SQL expression: `start` and `end` are
    aliases of the calendar-day table joined on the two dates (`start_date`, `end_date`, SQL
    expressions); the caller requires both rows when `end_date` is after `start_date`."""
    return (
        f"CASE WHEN {end_date} <= {start_date} THEN 0"
        f" ELSE {end}.working_day_index - {start}.working_day_index END"
    )


def due_in_days(
    calendar: Calendar | CalendarDays,
    start: dt.date,
    days: int,
    *,
    working: bool = True,
    extra_working_days: int = 0,
) -> Due:
    """N (working or calendar) days after `start`, `start` not counted."""
    return _days(calendar).due_in_days(
        start, days, working=working, extra_working_days=extra_working_days
    )


def due_in_minutes(
    calendar: Calendar | CalendarDays,
    start: dt.datetime,
    minutes: int,
    *,
    opens_at: dt.time,
    closes_at: dt.time,
) -> Due:
    """`minutes` of service time from `start`, counted only within service hours on working days."""
    return _days(calendar).due_in_minutes(start, minutes, opens_at=opens_at, closes_at=closes_at)


def working_days_between(calendar: Calendar | CalendarDays, start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    return _days(calendar).working_days_between(start, end)


def reference_due_date(closed: Iterable[dt.date], start: dt.date, days: int) -> dt.date:
    """The plain Python twin of `due_in_days` (for tests): walk forward day by day."""
    closed_set = set(closed)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if day not in closed_set:
            counted += 1
    return day
