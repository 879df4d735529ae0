"""Reads behind the agency staff's breach list (/staff/breaches/) and the staff dashboard's
breach figures: the age bands, the whitelisted sorts, the counts per state and per
(kind, age band). One home for these rules: the list's filter and the dashboard both ask
here.

Every queryset is scoped by the permission policy (`Action.VIEW_PRIVATE`): an agency's
staff see their agency's breaches, a unit-limited member their units', the ombudsman all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from agencies.policy import Action, grant_for, scope
from oversight.answers import CLOSED
from oversight.models import Breach, BreachKind
from services.models import Service


@dataclass(frozen=True)
class AgeBand:
    """Breaches that occurred between `min_days` and `max_days` days ago (None: no upper
    bound), counted in calendar days up to now."""

    key: str
    label: Any
    min_days: int
    max_days: int | None

    def q(self, now: dt.datetime) -> Q:
        condition = Q(occurred_at__lte=now - dt.timedelta(days=self.min_days))
        if self.max_days is not None:
            condition &= Q(occurred_at__gt=now - dt.timedelta(days=self.max_days + 1))
        return condition


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("week", _("Up to 7 days"), 0, 7),
    AgeBand("month", _("8 to 30 days"), 8, 30),
    AgeBand("quarter", _("31 to 90 days"), 31, 90),
    AgeBand("older", _("More than 90 days"), 91, None),
)
AGE_BAND_BY_KEY = {band.key: band for band in AGE_BANDS}


@dataclass(frozen=True)
class ListSort:
    label: Any
    order: tuple[str, ...]


# Whitelisted orders of the list; the primary key last, so a page is stable.
LIST_SORTS: dict[str, ListSort] = {
    "newest": ListSort(_("Newest first"), ("-occurred_at", "-pk")),
    "oldest": ListSort(_("Oldest first"), ("occurred_at", "pk")),
    "kind": ListSort(_("Kind"), ("kind", "-occurred_at", "-pk")),
    "unit": ListSort(_("Unit"), ("unit__name", "-occurred_at", "-pk")),
    "service": ListSort(_("Service"), ("service__name", "-occurred_at", "-pk")),
    "status": ListSort(_("Status"), ("status", "-occurred_at", "-pk")),
}
LIST_DEFAULT_SORT = "newest"
LIST_PAGE_SIZE = 50


def breach_list_scoped(*, user: Any) -> QuerySet[Breach]:
    """Every breach the user may see, with what the list shows (unit, service, request)."""
    return scope(
        user,
        Breach.objects.select_related("agency", "unit", "service", "delivery"),
        Action.VIEW_PRIVATE,
    )


def breach_list_sorted(queryset: QuerySet[Breach], sort: str) -> QuerySet[Breach]:
    return queryset.order_by(*LIST_SORTS.get(sort, LIST_SORTS[LIST_DEFAULT_SORT]).order)


def sees_everywhere(user: Any) -> bool:
    """The ombudsman and superusers: the list's unit and service filters take a number
    rather than listing every unit of the country."""
    return grant_for(user, Action.VIEW_PRIVATE).everywhere


def units_for_list(*, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the units whose breaches the user may see, by name: one query."""
    units = scope(
        user,
        Unit.objects.all(),
        Action.VIEW_PRIVATE,
        agency_field="agency",
        unit_field="pk",
    )
    return list(units.order_by("name", "pk").values_list("pk", "name"))


def services_for_list(*, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the services whose breaches the user may see, by name: one query."""
    services = scope(user, Service.objects.all(), Action.VIEW_PRIVATE)
    return list(services.order_by("name", "pk").values_list("pk", "name"))


@dataclass
class OpenBreachFigures:
    """Open breaches (not closed) by kind and age band: rows of (kind label, counts per
    band, total)."""

    bands: tuple[AgeBand, ...] = AGE_BANDS
    rows: list[tuple[str, str, list[tuple[AgeBand, int]], int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row[3] for row in self.rows)


def open_breaches_by_kind_and_age(
    *, queryset: QuerySet[Breach], now: dt.datetime | None = None
) -> OpenBreachFigures:
    """One GROUP BY query: the open (not closed) breaches of `queryset` per kind, with a
    conditional count per age band."""
    now = now or timezone.now()
    aggregates: dict[str, Any] = {
        f"band_{band.key}": Count("pk", filter=band.q(now)) for band in AGE_BANDS
    }
    rows: Any = (
        queryset.exclude(status__in=CLOSED)
        .order_by()
        .values("kind")
        .annotate(total=Count("pk"), **aggregates)
    )
    labels = dict(BreachKind.choices)
    figures = OpenBreachFigures()
    for row in sorted(rows, key=lambda r: str(labels.get(r["kind"], r["kind"]))):
        figures.rows.append(
            (
                row["kind"],
                str(labels.get(row["kind"], row["kind"])),
                [(band, row[f"band_{band.key}"]) for band in AGE_BANDS],
                row["total"],
            )
        )
    return figures
