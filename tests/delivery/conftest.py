from __future__ import annotations

import datetime as dt

JAKARTA = dt.timezone(dt.timedelta(hours=7))


def wib(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JAKARTA)
