from __future__ import annotations

import datetime as dt

import pytest

from agencies.calendars import calendar_national, calendar_rebuild

JAKARTA = dt.timezone(dt.timedelta(hours=7))


def wib(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


@pytest.fixture
def national(db):
    calendar = calendar_national()
    calendar_rebuild(calendar, span=(2025, 2027))
    return calendar
