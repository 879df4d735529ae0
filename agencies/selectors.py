"""Reads for agencies and units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, Q, QuerySet
from django.utils.dates import WEEKDAYS

from agencies.calendars import DEFAULT_WEEKEND, NATIONAL_SLUG
from agencies.models import Agency, Calendar, Unit
from core.collation import code_point_order


def agency_list_public() -> QuerySet[Agency]:
    return Agency.objects.annotate(
        published_services=Count(
            "services", filter=Q(services__versions__status="published"), distinct=True
        )
    ).order_by("region_name", "name")


def agencies_by_region() -> list[tuple[str, list[Agency]]]:
    agencies = list(agency_list_public())
    return [
        (region or "—", list(items))
        for region, items in groupby(agencies, key=lambda a: a.region_name)
    ]


def agency_regions() -> list[str]:
    """The regions that have an agency, each once, in Python's string order."""
    return list(
        Agency.objects.exclude(region_name="")
        .annotate(region=code_point_order("region_name"))
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )


def unit_list_for_agency(agency: Agency) -> QuerySet[Unit]:
    return agency.units.filter(is_active=True).order_by("name")


@dataclass(frozen=True)
class DayHours:
    weekday: int
    name: str
    opens_at: dt.time | None  # None: closed that day
    closes_at: dt.time | None


def _weekend_of(unit: Unit) -> list[int]:
    """The weekly days off of the unit's calendar (its own, its agency's, else the national
    one), read without creating anything: a public page only reads."""
    calendar = unit.calendar if unit.calendar_id else unit.agency.calendar
    if calendar is not None:
        return list(calendar.weekend_days or DEFAULT_WEEKEND)
    national = (
        Calendar.objects.filter(slug=NATIONAL_SLUG).values_list("weekend_days", flat=True).first()
    )
    return list(national or DEFAULT_WEEKEND)


def unit_week(unit: Unit) -> list[DayHours]:
    """The unit's service hours, Monday to Sunday: its own per-weekday hours when it has
    set them, else its calendar's working days from `opens_at` to `closes_at` (the hours
    the service clock counts)."""
    if unit.weekly_hours:
        hours = {
            int(day): (dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1]))
            for day, pair in unit.weekly_hours.items()
        }
    else:
        weekend = set(_weekend_of(unit))
        hours = {day: (unit.opens_at, unit.closes_at) for day in range(7) if day not in weekend}
    week = []
    for day in range(7):
        opens, closes = hours.get(day, (None, None))
        week.append(DayHours(day, str(WEEKDAYS[day]), opens, closes))
    return week
