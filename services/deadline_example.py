"""A worked example of a promised processing time, for the public service page.

A simple stand-in: weekends and Indonesian national holidays (the `holidays` package) are
not working days. The working-day calendar engine (with cuti bersama and local closures)
replaces it later.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

from services.models import TimeUnit


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
    if not days:
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
