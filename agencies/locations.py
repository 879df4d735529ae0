"""Locations (offices, public service malls) and the units' counters there: writes, each
checked by the policy and recorded in the history with who made it, and the reads the public
pages compose (hours today, distance from a point).

Who may do what: the admins of a location's host agency create and change it (for a public
service mall, the district or city that runs it); an agency's admins put a counter of one of
their own units at any open location, and take it away; the host's admins may also take away
any counter at their location.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ExpressionWrapper, FloatField, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agencies.facilities import facilities_clean
from agencies.models import Agency, Counter, Location, LocationKind, Unit
from agencies.policy import Action, can
from agencies.services import weekly_hours_clean
from core.audit import mark_history
from core.errors import ApplicationError, PermissionDeniedError

LOCATION_FIELDS = frozenset(
    {
        "name",
        "kind",
        "address",
        "province",
        "city",
        "region_code",
        "phone",
        "latitude",
        "longitude",
        "weekly_hours",
        "facilities",
        "facilities_note",
        "is_active",
    }
)
# Paths under /locations/ that are pages, not locations.
RESERVED_SLUGS = frozenset({"near"})
EARTH_RADIUS_KM = 6371.0088
NEAR_LIMIT = 20


def _location_slug(name: str) -> str:
    base = slugify(name)[:70] or "lokasi"
    candidate, n = base, 2
    while candidate in RESERVED_SLUGS or Location.objects.filter(slug=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - LOCATION_FIELDS
    if unknown:
        raise ApplicationError(f"Not location fields: {sorted(unknown)}.")
    if "weekly_hours" in fields:
        fields["weekly_hours"] = weekly_hours_clean(fields["weekly_hours"])
    if "facilities" in fields:
        fields["facilities"] = facilities_clean(fields["facilities"])
    if "kind" in fields and fields["kind"] not in LocationKind.values:
        raise ApplicationError(_("Choose the kind of location."), field="kind")
    return fields


def _save(location: Location, acting_user: Any) -> Location:
    if (location.latitude is None) != (location.longitude is None):
        raise ApplicationError(
            _("Give both the latitude and the longitude, or neither."),
            field="longitude" if location.longitude is None else "latitude",
        )
    mark_history(location, acting_user)
    try:
        location.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise ApplicationError(errors[0], field=field) from exc
    location.save()
    return location


@transaction.atomic
def location_create(
    *, host_agency: Agency, name: str, kind: str, acting_user: Any = None, **fields: Any
) -> Location:
    """A new location run by `host_agency` (its admins only)."""
    if acting_user is not None and not can(acting_user, Action.MANAGE_AGENCY, host_agency):
        raise PermissionDeniedError()
    fields = _clean({"name": name, "kind": kind, **fields})
    slug = _location_slug(name)
    return _save(Location(host_agency=host_agency, slug=slug, **fields), acting_user)


@transaction.atomic
def location_update(*, location: Location, acting_user: Any, **fields: Any) -> Location:
    """Change a location (its host agency's admins only)."""
    if not can(acting_user, Action.MANAGE_AGENCY, location):
        raise PermissionDeniedError()
    for name, value in _clean(fields).items():
        setattr(location, name, value)
    return _save(location, acting_user)


@transaction.atomic
def counter_attach(
    *, unit: Unit, location: Location, label: str = "", acting_user: Any = None
) -> Counter:
    """Put a counter of `unit` at `location` (the unit's agency's admins only; no actor: the
    demo seed)."""
    if acting_user is not None and not can(acting_user, Action.MANAGE_AGENCY, unit):
        raise PermissionDeniedError()
    if not unit.is_active:
        raise ApplicationError(_("This unit is closed: it can no longer be changed."))
    if not location.is_active:
        raise ApplicationError(_("This location is closed."), field="location")
    counter = Counter(unit=unit, location=location, label=label.strip())
    mark_history(counter, acting_user)
    try:
        with transaction.atomic():
            counter.full_clean(validate_unique=False, validate_constraints=False)
            counter.save()
    except IntegrityError as exc:
        raise ApplicationError(
            _("The unit already has a counter at this location."), field="location"
        ) from exc
    return counter


def can_remove_counter(user: Any, counter: Counter) -> bool:
    return can(user, Action.MANAGE_AGENCY, counter) or can(
        user, Action.MANAGE_AGENCY, counter.location
    )


@transaction.atomic
def counter_remove(*, counter: Counter, acting_user: Any) -> None:
    """Take a counter away (the unit's agency's admins, or the location's host's)."""
    if not can_remove_counter(acting_user, counter):
        raise PermissionDeniedError()
    mark_history(counter, acting_user)
    counter.delete()


# --- Reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayHours:
    weekday: str
    opens_at: dt.time | None  # None: closed today, or no hours given
    closes_at: dt.time | None
    known: bool  # whether the location gives its hours at all


def location_week(location: Location) -> list[tuple[str, dt.time | None, dt.time | None]]:
    """Monday to Sunday: (day name, opens, closes), None when closed that day."""
    hours = {
        int(day): (dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1]))
        for day, pair in (location.weekly_hours or {}).items()
    }
    return [(str(WEEKDAYS[d]), *hours.get(d, (None, None))) for d in range(7)]


def location_today(location: Location, today: dt.date | None = None) -> TodayHours:
    """The hours of today's weekday in the site's time zone (WIB)."""
    day = (today or timezone.localdate()).weekday()
    _name, opens, closes = location_week(location)[day]
    return TodayHours(str(WEEKDAYS[day]), opens, closes, bool(location.weekly_hours))


def locations_public() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True)


def mpp_by_region() -> list[tuple[str, list[tuple[str, list[Location]]]]]:
    """Open public service malls, by province and then by regency or city (one query)."""
    malls = (
        locations_public()
        .filter(kind=LocationKind.MPP)
        .select_related("host_agency")
        .only("pk", "name", "slug", "address", "province", "city", "host_agency__name")
        .order_by("province", "city", "name")
    )
    grouped: dict[str, dict[str, list[Location]]] = {}
    for mall in malls:
        province = mall.province or "—"
        grouped.setdefault(province, {}).setdefault(mall.city or "—", []).append(mall)
    return [(p, list(cities.items())) for p, cities in grouped.items()]


class PointError(ApplicationError):
    pass


def parse_point(lat: Any, lon: Any) -> tuple[float, float]:
    """A point from text, or an ApplicationError saying what is wrong with it."""
    values: list[float] = []
    for raw, field, limit in ((lat, "lat", 90), (lon, "lon", 180)):
        text = str(raw or "").strip().replace(",", ".")
        if not text:
            raise PointError(_("Give both the latitude and the longitude."), field=field)
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise PointError(_("The latitude and longitude must be numbers."), field=field) from exc
        if not value.is_finite() or not -limit <= value <= limit:
            raise PointError(
                _(
                    "The latitude must lie between -90 and 90 and the longitude between -180 and 180."
                ),
                field=field,
            )
        values.append(float(value))
    return values[0], values[1]


def locations_near(lat: float, lon: float, *, limit: int = NEAR_LIMIT) -> list[Location]:
    """Open locations with coordinates, nearest first, each with `distance_km` (haversine,
    computed in SQL: the same on PostgreSQL and SQLite)."""
    phi, lam = math.radians(lat), math.radians(lon)
    row_phi = Radians(Cast("latitude", FloatField()))
    row_lam = Radians(Cast("longitude", FloatField()))
    half_dphi = (row_phi - Value(phi)) / Value(2.0)
    half_dlam = (row_lam - Value(lam)) / Value(2.0)
    a = Power(Sin(half_dphi), 2) + Value(math.cos(phi)) * Cos(row_phi) * Power(Sin(half_dlam), 2)
    distance = Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(a))
    return list(
        locations_public()
        .filter(latitude__isnull=False, longitude__isnull=False)
        .select_related("host_agency")
        .annotate(distance_km=ExpressionWrapper(distance, output_field=FloatField()))
        .order_by("distance_km", "pk")[:limit]
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The same distance in Python (for tests and checks)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def counters_at(location_ids: list[int]) -> QuerySet[Counter]:
    """The counters of open units at these locations, with unit and agency (one query)."""
    return (
        Counter.objects.filter(location_id__in=location_ids, unit__is_active=True)
        .select_related("unit__agency")
        .order_by("unit__agency__name", "unit__name")
    )


def counters_of_unit(unit_id: int) -> QuerySet[Counter]:
    """Where a unit serves: its counters at open locations, with the location (one query)."""
    return (
        Counter.objects.filter(unit_id=unit_id, location__is_active=True)
        .select_related("location")
        .order_by("location__kind", "location__name")
    )
