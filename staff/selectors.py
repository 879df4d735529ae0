"""Reads behind the staff dashboard: one query set per page, whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from agencies.models import Unit
from agencies.policy import Action, scope
from charter.models import Charter, CharterStatus
from charter.selectors import charter_list_for_staff
from delivery.models import ServiceDelivery
from delivery.selectors import MonthFigures, months_before, performance_by_unit_and_month
from delivery.templatetags.delivery_tags import Chart, month_chart
from oversight.breach_list import (
    OpenBreachFigures,
    breach_list_scoped,
    open_breaches_by_kind_and_age,
)
from services.components import Completeness, completeness
from services.models import Service, StandardVersion, VersionStatus
from services.selectors import VERSION_CHILDREN, service_list_for_staff


@dataclass
class DashboardRow:
    service: Service
    current: StandardVersion | None
    draft: StandardVersion | None
    completeness: Completeness | None

    @property
    def awaiting_approval(self) -> bool:
        return self.draft is not None and self.draft.status == VersionStatus.AWAITING_APPROVAL

    @property
    def review_overdue(self) -> bool:
        return bool(
            self.current
            and self.current.next_review_date
            and self.current.next_review_date < timezone.localdate()
        )

    @property
    def review_due(self) -> dt.date | None:
        return self.current.next_review_date if self.current else None


def dashboard_rows(*, user: Any) -> list[DashboardRow]:
    live = [
        VersionStatus.PUBLISHED,
        VersionStatus.DRAFT,
        VersionStatus.CONSULTATION,
        VersionStatus.AWAITING_APPROVAL,
    ]
    services = (
        service_list_for_staff(user=user)
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StandardVersion.objects.filter(status__in=live).prefetch_related(
                    *VERSION_CHILDREN
                ),
                to_attr="live_versions",
            )
        )
        .order_by("agency__name", "name")
    )
    rows = []
    for service in services:
        versions = service.live_versions
        current = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        draft = next((v for v in versions if v.status != VersionStatus.PUBLISHED), None)
        shown = current or draft
        rows.append(DashboardRow(service, current, draft, completeness(shown) if shown else None))
    return rows


# --- "How are we doing": the dashboard's figures ---------------------------------------------

# Standards and charters whose review falls within this many days show as due.
REVIEW_HORIZON_DAYS = 30


@dataclass(frozen=True)
class UnitPerformance:
    """One unit's on-time share over the last 12 months, month by month."""

    unit_id: int
    name: str
    months: list[MonthFigures]
    completed: int
    on_time: int
    on_time_rate: float | None
    chart: Chart | None

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_rate is None else round(self.on_time_rate * 100)


def unit_performance(*, user: Any, until: dt.date, months: int = 12) -> list[UnitPerformance]:
    """The on-time share per unit the user may see (an agency admin: every unit of the
    agency; a unit-limited member: their units), busiest unit first. Two queries."""
    deliveries = scope(user, ServiceDelivery.objects.all(), Action.VIEW_PRIVATE)
    series = performance_by_unit_and_month(deliveries=deliveries, until=until, months=months)
    names = dict(Unit.objects.filter(pk__in=list(series)).values_list("pk", "name"))
    minimum = int(settings.MAKLUMAT["MIN_SAMPLE"])
    result = []
    for unit_id, unit_months in series.items():
        completed = sum(m.completed for m in unit_months)
        on_time = sum(m.on_time for m in unit_months)
        rate = on_time / completed if completed >= minimum and completed else None
        result.append(
            UnitPerformance(
                unit_id=unit_id,
                name=names.get(unit_id, str(unit_id)),
                months=unit_months,
                completed=completed,
                on_time=on_time,
                on_time_rate=rate,
                chart=month_chart(unit_months),
            )
        )
    result.sort(key=lambda u: (-u.completed, u.name))
    return result


def charters_due_for_review(*, user: Any, today: dt.date) -> list[Charter]:
    """Published charters signed long enough ago that their yearly review (the review
    interval, MAKLUMAT["REVIEW_INTERVAL_MONTHS"]) falls within the horizon: one query."""
    interval = int(settings.MAKLUMAT["REVIEW_INTERVAL_MONTHS"])
    horizon = today + dt.timedelta(days=REVIEW_HORIZON_DAYS)
    return list(
        charter_list_for_staff(user=user)
        .filter(status=CharterStatus.PUBLISHED, signed_on__lte=months_before(horizon, interval))
        .select_related("unit")
        .order_by("signed_on", "pk")
    )


def charter_review_date(charter: Charter) -> dt.date:
    """The day a charter's review falls due: the review interval after it was signed."""
    interval = int(settings.MAKLUMAT["REVIEW_INTERVAL_MONTHS"])
    return months_after(charter.signed_on, interval)


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day `months` months later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


@dataclass
class DashboardFigures:
    units: list[UnitPerformance]
    open_breaches: OpenBreachFigures
    review_due: list[DashboardRow]
    incomplete: list[DashboardRow]
    charters_due: list[tuple[Charter, dt.date]]
    since: dt.date
    until: dt.date


def dashboard_figures(
    *, user: Any, rows: list[DashboardRow], today: dt.date | None = None
) -> DashboardFigures:
    """What the dashboard answers at a glance; a fixed number of queries whatever the size
    of the agency (the rows come from `dashboard_rows`)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=REVIEW_HORIZON_DAYS)
    units = unit_performance(user=user, until=today)
    review_due = sorted(
        (r for r in rows if r.review_due is not None and r.review_due <= horizon),
        key=lambda r: (r.review_due, r.service.name),
    )
    incomplete = [
        r
        for r in rows
        if r.current is not None and r.completeness and not r.completeness.is_complete
    ]
    charters = charters_due_for_review(user=user, today=today)
    return DashboardFigures(
        units=units,
        open_breaches=open_breaches_by_kind_and_age(queryset=breach_list_scoped(user=user)),
        review_due=review_due,
        incomplete=incomplete,
        charters_due=[(c, charter_review_date(c)) for c in charters],
        since=months_before(today, 12),
        until=today,
    )
