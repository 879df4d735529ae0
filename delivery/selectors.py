"""Reads for service deliveries: the staff list (scoped by the permission policy),
performance figures (one aggregate query per figure set), the monthly series for a chart,
the agency league, and the public tracking lookup.

Every figure is computed by the database (COUNT ... FILTER, PERCENTILE_CONT ... WITHIN GROUP),
never by a Python loop over deliveries; SQLite (`make run` only) falls back to computing
percentiles from one list of values.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from agencies.models import Agency, Unit
from agencies.policy import Action, scope
from delivery.models import ACTIVE_STATUSES, DeliveryStatus, ServiceDelivery
from services.models import Service, StandardVersion, VersionStatus


def completed_between(start: dt.datetime, end: dt.datetime) -> Q:
    """Deliveries completed in [start, end). Also `submitted_at < end`, implied by the check
    constraint completed_at >= submitted_at: on PostgreSQL deliveries are partitioned by
    month of submission, so the months after the period are not read (a past period skips
    every later month). No lower bound on submission can be had: a request submitted
    years ago may complete in the period."""
    return Q(
        status=DeliveryStatus.COMPLETED,
        completed_at__gte=start,
        completed_at__lt=end,
        submitted_at__lt=end,
    )


# Figures move slowly and are read on every public page: a few minutes of staleness is fine.
CACHE_SECONDS = 300
CACHE_PREFIX = "delivery:perf:v1"

# Statuses of a request that is not closed yet (the clock may not have started: "waiting").
NOT_CLOSED = (DeliveryStatus.WAITING, DeliveryStatus.OPEN, DeliveryStatus.PAUSED)


class RateWithheld:
    """Why an on-time rate is not shown ("" when it is)."""

    NONE = ""
    NO_DATA = "no_data"
    SMALL_SAMPLE = "small_sample"


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: PERCENTILE_CONT(f) WITHIN GROUP (ORDER BY x)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("A percentile fraction lies between 0 and 1.")
        # A float we produced ourselves, rendered with repr: no user input reaches the SQL.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """The plain Python twin of PERCENTILE_CONT: linear interpolation between ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] + (ordered[upper] - ordered[lower]) * weight)


@dataclass(frozen=True)
class PerformanceFigures:
    """How well a service, unit, agency (or the nation) kept its promise over a period.

    Period figures count deliveries completed between `since` and `until` (local dates,
    inclusive). `open` and `open_overdue` are the state now of requests not yet closed.
    """

    since: dt.date
    until: dt.date
    completed: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    rate_withheld: str = RateWithheld.NO_DATA
    min_sample: int = 0
    median_days: float | None = None
    p90_days: float | None = None
    promise_value: int | None = None
    promise_unit: str = ""
    overcharged: int = 0
    open: int = 0
    open_overdue: int = 0
    # When these figures were computed: pages show them "as of" then (they are cached).
    computed_at: dt.datetime | None = field(default=None, compare=False)

    @property
    def late(self) -> int:
        return self.completed - self.on_time

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_rate is None else round(self.on_time_rate * 100)

    @property
    def rate_hidden_for_small_sample(self) -> bool:
        return self.rate_withheld == RateWithheld.SMALL_SAMPLE


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date  # the first day of the month
    completed: int
    on_time: int
    on_time_rate: float | None

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_rate is None else round(self.on_time_rate * 100)


@dataclass(frozen=True)
class AgencyPerformance:
    agency_id: int
    name: str
    slug: str
    completed: int
    on_time: int
    on_time_rate: float | None

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_rate is None else round(self.on_time_rate * 100)


def _min_sample() -> int:
    return int(settings.MAKLUMAT["MIN_SAMPLE"])


def _rate(on_time: int, completed: int) -> tuple[float | None, str]:
    if completed == 0:
        return None, RateWithheld.NO_DATA
    if completed < _min_sample():
        return None, RateWithheld.SMALL_SAMPLE
    return on_time / completed, RateWithheld.NONE


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of `since`, start of the day after `until`) in the site's time zone."""
    if until < since:
        raise ValueError("The period ends before it starts.")
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _scoped(
    *, service: Service | None, unit: Unit | None, agency: Agency | None
) -> tuple[QuerySet[ServiceDelivery], str]:
    deliveries = ServiceDelivery.objects.all()
    if service is not None:
        return deliveries.filter(service_id=service.pk), f"service:{service.pk}"
    if unit is not None:
        return deliveries.filter(unit_id=unit.pk), f"unit:{unit.pk}"
    if agency is not None:
        return deliveries.filter(agency_id=agency.pk), f"agency:{agency.pk}"
    return deliveries, "all"


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def performance_cache_key(scope: str, since: dt.date, until: dt.date) -> str:
    return f"{CACHE_PREFIX}:{scope}:{since.isoformat()}:{until.isoformat()}"


def performance_aggregates(
    *, since: dt.date, until: dt.date, now: dt.datetime
) -> tuple[Q, Q, dict[str, Any]]:
    """The one definition of a scope's figures over a period, for one scope
    (`performance_figures`) or every scope at once (`delivery.figures`).

    Returns (completed in the period, not closed, the aggregates): the rows to read are
    those matching either filter. On PostgreSQL the aggregates include the median and
    90th percentile of working days taken; elsewhere the caller computes them in Python.
    """
    start, end = _bounds(since, until)
    in_period = completed_between(start, end)
    not_closed = Q(completed_at__isnull=True, status__in=NOT_CLOSED)
    aggregates: dict[str, Any] = {
        "completed": Count("pk", filter=in_period),
        "on_time": Count("pk", filter=in_period & Q(completed_at__lte=F("due_at"))),
        "overcharged": Count("pk", filter=in_period & Q(fee_charged__gt=F("promised_cost"))),
        "open": Count("pk", filter=not_closed),
        "open_overdue": Count(
            "pk", filter=Q(status=DeliveryStatus.OPEN, completed_at__isnull=True, due_at__lt=now)
        ),
    }
    if _is_postgresql():
        aggregates["median"] = PercentileCont("working_days_taken", 0.5, filter=in_period)
        aggregates["p90"] = PercentileCont("working_days_taken", 0.9, filter=in_period)
    return in_period, not_closed, aggregates


def performance_figures(
    *,
    service: Service | None = None,
    unit: Unit | None = None,
    agency: Agency | None = None,
    since: dt.date,
    until: dt.date,
    use_cache: bool = True,
) -> PerformanceFigures:
    """On-time rate, times taken and overcharges of one scope over a period.

    One aggregate query (plus one for the current promise when scoped to a service), cached
    per (scope, period) for CACHE_SECONDS. The on-time rate is withheld (None, with the
    reason in `rate_withheld`) below settings.MAKLUMAT["MIN_SAMPLE"] completed deliveries.
    A delivery completed at exactly its `due_at` is on time.
    """
    deliveries, scope = _scoped(service=service, unit=unit, agency=agency)
    key = performance_cache_key(scope, since, until)
    if use_cache:
        cached = cache.get(key)
        if isinstance(cached, PerformanceFigures):
            return cached

    now = timezone.now()
    in_period, not_closed, aggregates = performance_aggregates(since=since, until=until, now=now)
    postgresql = _is_postgresql()
    # Both arms are served by the (scope, completed_at) indexes: a range, and completed_at NULL.
    row = deliveries.filter(in_period | not_closed).aggregate(**aggregates)
    if postgresql:
        median, p90 = row["median"], row["p90"]
    else:
        taken = [
            float(days)
            for days in deliveries.filter(in_period, working_days_taken__isnull=False).values_list(
                "working_days_taken", flat=True
            )
            if days is not None
        ]
        median, p90 = percentile_cont(taken, 0.5), percentile_cont(taken, 0.9)

    promise_value: int | None = None
    promise_unit = ""
    if service is not None:
        current = (
            StandardVersion.objects.filter(service_id=service.pk, status=VersionStatus.PUBLISHED)
            .values_list("processing_time_value", "processing_time_unit")
            .first()
        )
        if current is not None:
            promise_value, promise_unit = current

    completed, on_time = row["completed"], row["on_time"]
    rate, withheld = _rate(on_time, completed)
    figures = PerformanceFigures(
        since=since,
        until=until,
        completed=completed,
        on_time=on_time,
        on_time_rate=rate,
        rate_withheld=withheld,
        min_sample=_min_sample(),
        median_days=median,
        p90_days=p90,
        promise_value=promise_value,
        promise_unit=promise_unit,
        overcharged=row["overcharged"],
        open=row["open"],
        open_overdue=row["open_overdue"],
        computed_at=now,
    )
    if use_cache:
        cache.set(key, figures, CACHE_SECONDS)
    return figures


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def performance_by_month(
    *,
    service: Service | None = None,
    unit: Unit | None = None,
    agency: Agency | None = None,
    until: dt.date,
    months: int = 12,
) -> list[MonthFigures]:
    """Completed and on-time deliveries per month for the `months` months ending with
    `until`'s month, oldest first, empty months included: one GROUP BY query."""
    deliveries, _ = _scoped(service=service, unit=unit, agency=agency)
    first = _add_months(_month_start(until), -(months - 1))
    start, end = _bounds(first, until)
    tz = timezone.get_default_timezone()
    rows = (
        deliveries.filter(completed_between(start, end))
        .annotate(month=TruncMonth("completed_at", tzinfo=tz))
        .values("month")
        .annotate(
            completed=Count("pk"),
            on_time=Count("pk", filter=Q(completed_at__lte=F("due_at"))),
        )
        .order_by("month")
    )
    by_month: dict[dt.date, tuple[int, int]] = {}
    for row in rows:
        month = row["month"]
        key = month.date() if isinstance(month, dt.datetime) else month
        by_month[key] = (row["completed"], row["on_time"])
    series = []
    for offset in range(months):
        month = _add_months(first, offset)
        completed, on_time = by_month.get(month, (0, 0))
        series.append(
            MonthFigures(
                month=month,
                completed=completed,
                on_time=on_time,
                on_time_rate=_rate(on_time, completed)[0],
            )
        )
    return series


def performance_by_unit_and_month(
    *, deliveries: QuerySet[ServiceDelivery], until: dt.date, months: int = 12
) -> dict[int, list[MonthFigures]]:
    """`performance_by_month` for many units at once: {unit id: its months, oldest first,
    empty months included}, for the units with a completed delivery in the window of
    `deliveries` (already scoped by the caller). One GROUP BY (unit, month) query."""
    first = _add_months(_month_start(until), -(months - 1))
    start, end = _bounds(first, until)
    tz = timezone.get_default_timezone()
    rows = (
        deliveries.filter(completed_between(start, end))
        .annotate(month=TruncMonth("completed_at", tzinfo=tz))
        .values("unit_id", "month")
        .annotate(
            completed=Count("pk"),
            on_time=Count("pk", filter=Q(completed_at__lte=F("due_at"))),
        )
        .order_by()
    )
    found: dict[int, dict[dt.date, tuple[int, int]]] = {}
    for row in rows:
        month = row["month"]
        key = month.date() if isinstance(month, dt.datetime) else month
        found.setdefault(row["unit_id"], {})[key] = (row["completed"], row["on_time"])
    series: dict[int, list[MonthFigures]] = {}
    for unit_id, by_month in found.items():
        series[unit_id] = []
        for offset in range(months):
            month = _add_months(first, offset)
            completed, on_time = by_month.get(month, (0, 0))
            series[unit_id].append(
                MonthFigures(
                    month=month,
                    completed=completed,
                    on_time=on_time,
                    on_time_rate=_rate(on_time, completed)[0],
                )
            )
    return series


@dataclass(frozen=True)
class PeriodFigures:
    """On-time figures over the last `months` months, ending with `until` (inclusive)."""

    months: int
    since: dt.date
    until: dt.date
    completed: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    rate_withheld: str = RateWithheld.NO_DATA
    min_sample: int = 0

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_rate is None else round(self.on_time_rate * 100)

    @property
    def rate_hidden_for_small_sample(self) -> bool:
        return self.rate_withheld == RateWithheld.SMALL_SAMPLE


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier, clamped to the end of a shorter month."""
    first = _add_months(_month_start(day), -months)
    last = _add_months(first, 1) - dt.timedelta(days=1)
    return first.replace(day=min(day.day, last.day))


def performance_periods(
    *,
    service: Service | None = None,
    unit: Unit | None = None,
    agency: Agency | None = None,
    until: dt.date,
    months: Sequence[int] = (3, 6, 12),
    use_cache: bool = True,
) -> list[PeriodFigures]:
    """Completed and on-time deliveries over the last 3, 6 and 12 months (or `months`),
    shortest first, in one aggregate query with a conditional count per period; cached like
    performance_figures. Each period runs from the same day `months` months before `until`
    (so the 12-month one matches performance_figures(since=until - 365 days) outside leap
    years) to `until`, inclusive. The min-sample rule applies to each period on its own.
    """
    periods = sorted({int(m) for m in months})
    if not periods or periods[0] < 1:
        raise ValueError("A period is at least one month.")
    deliveries, scope = _scoped(service=service, unit=unit, agency=agency)
    key = f"{CACHE_PREFIX}:periods:{scope}:{until.isoformat()}:{','.join(map(str, periods))}"
    if use_cache:
        cached = cache.get(key)
        if isinstance(cached, list):
            return cached

    starts = {m: months_before(until, m) for m in periods}
    bounds = {m: _bounds(starts[m], until) for m in periods}
    end = bounds[periods[0]][1]
    aggregates: dict[str, Any] = {}
    for m in periods:
        since_m = Q(completed_at__gte=bounds[m][0])
        aggregates[f"completed_{m}"] = Count("pk", filter=since_m)
        aggregates[f"on_time_{m}"] = Count("pk", filter=since_m & Q(completed_at__lte=F("due_at")))
    row = deliveries.filter(completed_between(bounds[periods[-1]][0], end)).aggregate(**aggregates)
    figures = []
    for m in periods:
        completed, on_time = row[f"completed_{m}"], row[f"on_time_{m}"]
        rate, withheld = _rate(on_time, completed)
        figures.append(
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
    if use_cache:
        cache.set(key, figures, CACHE_SECONDS)
    return figures


def agency_league(
    *, since: dt.date, until: dt.date, agency_ids: Sequence[int] | None = None
) -> list[AgencyPerformance]:
    """Every agency's on-time rate and sample size over the period, in one query.

    Best rate first; agencies whose rate is withheld (too few deliveries) come last, larger
    samples first.
    """
    start, end = _bounds(since, until)
    # Each agency's deliveries of the period are counted by a range read of the index on
    # (agency, completed_at), so the cost follows the period's volume, not the history's
    # (a FILTER on the joined deliveries would read every delivery ever recorded).
    in_period = ServiceDelivery.objects.filter(completed_between(start, end), agency=OuterRef("pk"))

    def counted(deliveries: QuerySet[ServiceDelivery]) -> Coalesce:
        count = deliveries.order_by().values("agency").annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(count, output_field=IntegerField()), 0)

    agencies = Agency.objects.all()
    if agency_ids is not None:
        agencies = agencies.filter(pk__in=list(agency_ids))
    rows = agencies.annotate(
        completed=counted(in_period),
        on_time=counted(in_period.filter(completed_at__lte=F("due_at"))),
    ).values_list("pk", "name", "slug", "completed", "on_time")
    league = [
        AgencyPerformance(
            agency_id=pk,
            name=name,
            slug=slug,
            completed=completed,
            on_time=on_time,
            on_time_rate=_rate(on_time, completed)[0],
        )
        for pk, name, slug, completed, on_time in rows
    ]
    league.sort(
        key=lambda r: (
            r.on_time_rate is None,
            -(r.on_time_rate or 0.0),
            -r.completed,
            r.name,
        )
    )
    return league


def delivery_get_by_tracking_code(code: str) -> ServiceDelivery | None:
    """The delivery a citizen's tracking code names, with what its public page shows."""
    return (
        ServiceDelivery.objects.select_related("service__agency", "unit", "agency")
        .filter(tracking_code=code)
        .first()
    )


# --- The staff list ----------------------------------------------------------------------


def recordable_services(*, user: Any) -> QuerySet[Service]:
    """The services whose deliveries the user may record, by agency and name."""
    return scope(
        user, Service.objects.select_related("agency", "unit"), Action.RECORD_DELIVERY
    ).order_by("agency__name", "name")


def deliveries_for_staff(
    *,
    user: Any,
    status: str = "",
    service: Service | None = None,
    overdue: bool = False,
    q: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[ServiceDelivery]:
    """The deliveries the user may record, newest first, filtered as the staff list asks:
    by status, service, overdue (open or paused past its due moment), and a reference or
    tracking code (`q`)."""
    deliveries = scope(
        user,
        ServiceDelivery.objects.select_related("service", "unit", "agency"),
        Action.RECORD_DELIVERY,
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if service is not None:
        deliveries = deliveries.filter(service=service)
    if overdue:
        deliveries = deliveries.filter(status__in=ACTIVE_STATUSES, due_at__lt=now or timezone.now())
    term = q.strip()
    if term:
        deliveries = deliveries.filter(Q(reference=term) | Q(tracking_code=term.upper()))
    return deliveries.order_by("-submitted_at", "-pk")
