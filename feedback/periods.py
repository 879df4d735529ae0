"""The survey period: a calendar quarter (triwulan) in WIB, written "2026-Q4".

PermenPANRB 14/2017 asks for a survey at least once a year; many units survey every
quarter or semester. A quarter gives a trend within a year and still adds up to a yearly
figure; it is the one definition every page, selector and the demo use.
"""

from __future__ import annotations

import datetime as dt
import re

PERIOD_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")


def period_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first day of the period and the first day after it."""
    match = PERIOD_PATTERN.match(period)
    if match is None:
        raise ValueError(f"Not a survey period: {period!r}")
    year, quarter = int(match[1]), int(match[2])
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end
