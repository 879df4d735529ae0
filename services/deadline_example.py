"""A worked example of a promised processing time, for the public service page.

`unit_example` counts on the unit's own work calendar (agencies/calendars.py: national
holidays, cuti bersama, regional and local closures), the same one its deliveries are
held to. Where that calendar is not materialised for the dates (a fresh install before
its first rebuild), it falls back to a stand-in: weekends and national holidays from the
`holidays` package.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import holidays
from django.core.cache import cache

from core.errors import ApplicationError
from services.models import TimeUnit

# The example moves with the date and with the calendar; a calendar change shows within
# this many seconds.
EXAMPLE_CACHE_SECONDS = 600
# Beyond ten years no example helps (and an imported absurd promise must not hang the page).
EXAMPLE_MAX_DAYS = 3660


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("ID", years=year, language="id"))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def example_due_date(start: dt.date, days: int | None, unit: str) -> dt.date | None:
    """The day a request submitted on `start` is due, counting from the next day.

    Working days skip Saturdays, Sundays and national holidays; calendar days do not.
    Hours and minutes promise an answer on the same day. None when there is no promise.
    """
    if not days or days > EXAMPLE_MAX_DAYS:
        return None
    if unit == TimeUnit.CALENDAR_DAYS:
        return start + dt.timedelta(days=days)
    if unit in (TimeUnit.HOURS, TimeUnit.MINUTES):
        return start
    day, remaining = start, days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def example_start(today: dt.date) -> dt.date:
    """The submission day used in the example: today, or the next working day."""
    day = today
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def unit_example(
    unit: Any, today: dt.date, days: int | None, time_unit: str
) -> tuple[dt.date, dt.date | None]:
    """(submission day, due day) of the example, on the unit's work calendar.

    The submission day is today or the next working day. Cached per calendar, day and
    promise, so the page's query count does not depend on it.
    """
    from agencies.calendars import NATIONAL_SLUG
    from agencies.models import Calendar

    # Keyed by the unit and what decides its calendar (its own, else its agency's, else the
    # national one), so a cached example costs no query.
    owner = f"u{unit.pk}:{unit.calendar_id or ''}-{unit.agency.calendar_id or ''}"
    key = f"deadline-example:{owner}:{today.isoformat()}:{days}:{time_unit}"
    cached = cache.get(key)
    if cached is not None:
        return cached[0], cached[1]
    # Read-only (a page view never creates the national calendar).
    calendar_id = (
        unit.calendar_id
        or unit.agency.calendar_id
        or Calendar.objects.filter(slug=NATIONAL_SLUG).values_list("pk", flat=True).first()
    )
    try:
        if calendar_id is None:
            raise ApplicationError("No work calendar yet.")
        result = _on_calendar(Calendar(pk=calendar_id), today, days, time_unit)
    except ApplicationError:  # the calendar does not cover these dates yet
        start = example_start(today)
        result = (start, example_due_date(start, days, time_unit))
    cache.set(key, result, EXAMPLE_CACHE_SECONDS)
    return result


def _on_calendar(
    calendar: Any, today: dt.date, days: int | None, time_unit: str
) -> tuple[dt.date, dt.date | None]:
    from agencies.calendars import due_in_days
    from agencies.models import CalendarDay

    start = (
        CalendarDay.objects.filter(calendar=calendar, date__gte=today, is_working_day=True)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    if start is None or (start - today).days > 31:
        raise ApplicationError("The work calendar does not cover this date.")
    if not days or days > EXAMPLE_MAX_DAYS:
        return start, None
    if time_unit in (TimeUnit.HOURS, TimeUnit.MINUTES):
        return start, start
    working = time_unit == TimeUnit.WORKING_DAYS
    return start, due_in_days(calendar, start, days, working=working).date
