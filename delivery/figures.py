"""Performance figures computed ahead, on a schedule, so that no public request pays for them.

The public pages (service, unit, agency, league) show each scope's figures over the last
year: the panel (on-time rate, times taken, overcharges, open requests), the 3/6/12-month
shares and the monthly series, and the league's on-time rates. `figures_precompute` (the
beat task `delivery.report_figures`, every 5 minutes, on the reports queue) computes them
for every service, unit and agency at once, a few GROUP BY queries in all whatever the
number of scopes, and keeps them in the shared cache (Redis in production, the file cache
web and worker share under `make run`). Pages read them from there and say "as of" when
they were computed.

A snapshot lives FIGURES_MAX_AGE_SECONDS (default one hour): should the schedule stop,
figures do not freeze; a page that finds none for its scope (never computed, evicted,
expired, or computed for another day) computes that one scope's figures once and keeps them
for the others. Running the task twice, even at once, is harmless: it writes nothing to the
database, and the second run, if it overlaps the first, leaves the work to it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from agencies.models import Agency, Unit
from delivery.models import ServiceDelivery
from delivery.selectors import (
    AgencyPerformance,
    MonthFigures,
    PerformanceFigures,
    PeriodFigures,
    _add_months,
    _bounds,
    _is_postgresql,
    _min_sample,
    _month_start,
    _rate,
    agency_league,
    completed_between,
    months_before,
    percentile_cont,
    performance_aggregates,
    performance_by_month,
    performance_figures,
    performance_periods,
)
from services.models import Service, StandardVersion, VersionStatus

KEY_PREFIX = "delivery:figures:v1"
LOCK_KEY = f"{KEY_PREFIX}:running"
PERIODS = (3, 6, 12)
MONTHS = 12
SCOPES = (("service", "service_id"), ("unit", "unit_id"), ("agency", "agency_id"))


def max_age() -> int:
    return int(getattr(settings, "FIGURES_MAX_AGE_SECONDS", 3600))


def last_year() -> tuple[dt.date, dt.date]:
    """The period every public on-time figure covers: the 365 days up to today."""
    today = timezone.localdate()
    return today - dt.timedelta(days=365), today


@dataclass(frozen=True)
class PanelFigures:
    """One scope's figures as its public page shows them."""

    until: dt.date  # the day they cover up to (a new day needs new figures)
    figures: PerformanceFigures
    periods: list[PeriodFigures]
    months: list[MonthFigures]
    computed_at: dt.datetime = field(compare=False)


@dataclass(frozen=True)
class LeagueFigures:
    until: dt.date
    rates: dict[int, AgencyPerformance]
    computed_at: dt.datetime = field(compare=False)


def panel_key(kind: str, pk: int) -> str:
    return f"{KEY_PREFIX}:panel:{kind}:{pk}"


LEAGUE_KEY = f"{KEY_PREFIX}:league"


def _scope(
    service: Service | None, unit: Unit | None, agency: Agency | None
) -> tuple[str, int] | None:
    for kind, obj in (("service", service), ("unit", unit), ("agency", agency)):
        if obj is not None:
            return kind, int(obj.pk)
    return None


# --- Reading (the pages) ------------------------------------------------------------------


def panel_figures(
    *, service: Service | None = None, unit: Unit | None = None, agency: Agency | None = None
) -> PanelFigures:
    """The scope's precomputed figures; computed here once if there are none for today."""
    since, until = last_year()
    scope = _scope(service, unit, agency)
    if scope is not None:
        found = cache.get(panel_key(*scope))
        if isinstance(found, PanelFigures) and found.until == until:
            return found
    kwargs: dict[str, Any] = {"service": service, "unit": unit, "agency": agency}
    # Through the selectors' own short cache: a page that showed the scope's figures a
    # moment ago (scope_figures) does not compute them twice.
    figures = performance_figures(**kwargs, since=since, until=until)
    panel = PanelFigures(
        until=until,
        figures=figures,
        periods=performance_periods(**kwargs, until=until, months=PERIODS),
        months=performance_by_month(**kwargs, until=until, months=MONTHS),
        computed_at=figures.computed_at or timezone.now(),
    )
    if scope is not None:
        cache.set(panel_key(*scope), panel, max_age())
    return panel


def scope_figures(
    *, service: Service | None = None, unit: Unit | None = None, agency: Agency | None = None
) -> PerformanceFigures:
    """Just the scope's last-year figures (the figures section of an agency or unit page):
    from the snapshot; without one, the one aggregate (cached briefly by the selector)."""
    since, until = last_year()
    scope = _scope(service, unit, agency)
    if scope is not None:
        found = cache.get(panel_key(*scope))
        if isinstance(found, PanelFigures) and found.until == until:
            return found.figures
    return performance_figures(service=service, unit=unit, agency=agency, since=since, until=until)


def league_rates() -> LeagueFigures:
    """Every agency's on-time rate over the last year; computed here once if not ahead."""
    since, until = last_year()
    found = cache.get(LEAGUE_KEY)
    if isinstance(found, LeagueFigures) and found.until == until:
        return found
    league = LeagueFigures(
        until=until,
        rates={row.agency_id: row for row in agency_league(since=since, until=until)},
        computed_at=timezone.now(),
    )
    cache.set(LEAGUE_KEY, league, max_age())
    return league


# --- Computing ahead (the task) ------------------------------------------------------------


def _figures_by(
    column: str, *, since: dt.date, until: dt.date, now: dt.datetime
) -> dict[int, dict[str, Any]]:
    """performance_figures' aggregate for every scope of one kind: one GROUP BY query."""
    in_period, not_closed, aggregates = performance_aggregates(since=since, until=until, now=now)
    postgresql = _is_postgresql()
    rows = (
        ServiceDelivery.objects.filter(in_period | not_closed)
        .values(column)
        .annotate(**aggregates)
        .order_by()
    )
    found = {row[column]: row for row in rows if row[column] is not None}
    if not postgresql:
        # SQLite (`make run`): the percentiles from one list of values per scope.
        taken: dict[int, list[float]] = defaultdict(list)
        values = ServiceDelivery.objects.filter(in_period, working_days_taken__isnull=False)
        for pk, days in values.values_list(column, "working_days_taken"):
            taken[pk].append(float(days))
        for pk, row in found.items():
            row["median"] = percentile_cont(taken.get(pk, []), 0.5)
            row["p90"] = percentile_cont(taken.get(pk, []), 0.9)
    return found


def _periods_by(column: str, *, until: dt.date) -> dict[int, list[PeriodFigures]]:
    """performance_periods for every scope of one kind: one GROUP BY query."""
    starts = {m: months_before(until, m) for m in PERIODS}
    bounds = {m: _bounds(starts[m], until) for m in PERIODS}
    aggregates: dict[str, Any] = {}
    for m in PERIODS:
        since_m = Q(completed_at__gte=bounds[m][0])
        aggregates[f"completed_{m}"] = Count("pk", filter=since_m)
        aggregates[f"on_time_{m}"] = Count("pk", filter=since_m & Q(completed_at__lte=F("due_at")))
    rows = (
        ServiceDelivery.objects.filter(
            completed_between(bounds[PERIODS[-1]][0], bounds[PERIODS[0]][1])
        )
        .values(column)
        .annotate(**aggregates)
        .order_by()
    )
    found: dict[int, list[PeriodFigures]] = {}
    for row in rows:
        found[row[column]] = _periods(row, starts, until)
    return found


def _periods(
    row: dict[str, Any], starts: dict[int, dt.date], until: dt.date
) -> list[PeriodFigures]:
    periods = []
    for m in PERIODS:
        completed, on_time = row.get(f"completed_{m}", 0), row.get(f"on_time_{m}", 0)
        rate, withheld = _rate(on_time, completed)
        periods.append(
            PeriodFigures(
                months=m,
                since=starts[m],
                until=until,
                completed=completed,
                on_time=on_time,
                on_time_rate=rate,
                rate_withheld=withheld,
                min_sample=_min_sample(),
            )
        )
    return periods


def _months_by(column: str, *, until: dt.date) -> dict[int, dict[dt.date, tuple[int, int]]]:
    """performance_by_month's counts for every scope of one kind: one GROUP BY query."""
    first = _add_months(_month_start(until), -(MONTHS - 1))
    start, end = _bounds(first, until)
    tz = timezone.get_default_timezone()
    rows = (
        ServiceDelivery.objects.filter(completed_between(start, end))
        .annotate(month=TruncMonth("completed_at", tzinfo=tz))
        .values(column, "month")
        .annotate(
            completed=Count("pk"), on_time=Count("pk", filter=Q(completed_at__lte=F("due_at")))
        )
        .order_by()
    )
    found: dict[int, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    for row in rows:
        month = row["month"]
        key = month.date() if isinstance(month, dt.datetime) else month
        found[row[column]][key] = (row["completed"], row["on_time"])
    return found


def _month_series(counts: dict[dt.date, tuple[int, int]], until: dt.date) -> list[MonthFigures]:
    first = _add_months(_month_start(until), -(MONTHS - 1))
    series = []
    for offset in range(MONTHS):
        month = _add_months(first, offset)
        completed, on_time = counts.get(month, (0, 0))
        series.append(
            MonthFigures(
                month=month,
                completed=completed,
                on_time=on_time,
                on_time_rate=_rate(on_time, completed)[0],
            )
        )
    return series


def _scope_ids(kind: str) -> Iterable[int]:
    if kind == "service":
        return Service.objects.values_list("pk", flat=True)
    if kind == "unit":
        return Unit.objects.values_list("pk", flat=True)
    return Agency.objects.values_list("pk", flat=True)


def figures_precompute(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Compute every scope's panel and the league, and keep them for the pages.

    Returns how many snapshots of each kind were written ({} when another run was busy).
    """
    if not cache.add(LOCK_KEY, time.time(), timeout=max(60, max_age() // 2)):
        return {}
    try:
        return _precompute(now or timezone.now())
    finally:
        cache.delete(LOCK_KEY)


def _precompute(now: dt.datetime) -> dict[str, int]:
    today = timezone.localdate(now)
    since, until = today - dt.timedelta(days=365), today
    starts = {m: months_before(until, m) for m in PERIODS}
    promises = {
        service_id: (value, unit)
        for service_id, value, unit in StandardVersion.objects.filter(
            status=VersionStatus.PUBLISHED
        ).values_list("service_id", "processing_time_value", "processing_time_unit")
    }
    written: dict[str, int] = {}
    for kind, column in SCOPES:
        figures = _figures_by(column, since=since, until=until, now=now)
        periods = _periods_by(column, until=until)
        months = _months_by(column, until=until)
        entries: dict[str, PanelFigures] = {}
        for pk in _scope_ids(kind):
            row = figures.get(pk, {})
            completed, on_time = row.get("completed", 0), row.get("on_time", 0)
            rate, withheld = _rate(on_time, completed)
            promise_value, promise_unit = (
                promises.get(pk, (None, "")) if kind == "service" else (None, "")
            )
            entries[panel_key(kind, pk)] = PanelFigures(
                until=until,
                figures=PerformanceFigures(
                    since=since,
                    until=until,
                    completed=completed,
                    on_time=on_time,
                    on_time_rate=rate,
                    rate_withheld=withheld,
                    min_sample=_min_sample(),
                    median_days=row.get("median"),
                    p90_days=row.get("p90"),
                    promise_value=promise_value,
                    promise_unit=promise_unit,
                    overcharged=row.get("overcharged", 0),
                    open=row.get("open", 0),
                    open_overdue=row.get("open_overdue", 0),
                    computed_at=now,
                ),
                periods=periods.get(pk) or _periods({}, starts, until),
                months=_month_series(months.get(pk, {}), until),
                computed_at=now,
            )
        for chunk in _chunks(list(entries.items()), 1000):
            cache.set_many(dict(chunk), max_age())
        written[kind] = len(entries)
    league = LeagueFigures(
        until=until,
        rates={row.agency_id: row for row in agency_league(since=since, until=until)},
        computed_at=now,
    )
    cache.set(LEAGUE_KEY, league, max_age())
    written["league"] = len(league.rates)
    return written


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
