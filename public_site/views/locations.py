"""The public pages of places: a location (office or public service mall) with the agencies,
units and services served there, hours today, facilities and a map; the public service
malls by province and city; locations near a point. Each page runs a fixed number of
queries, whatever the number of counters and services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from agencies.facilities import facility_items
from agencies.locations import (
    PointError,
    counters_at,
    location_today,
    location_week,
    locations_near,
    mpp_by_region,
    parse_point,
)
from agencies.models import Counter, Location
from core.page_cache import public_page
from services.models import Service, VersionStatus


def _tile_origin() -> list[str]:
    parts = urlsplit(settings.MAP_TILE_URL or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        # A tile URL template may name its subdomains ({s}.tile...): allow them all.
        host = parts.netloc.replace("{s}.", "*.")
        return [f"{parts.scheme}://{host}"]
    return []


def map_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The map pages (and only they) may load the tile server's images."""
    origins = _tile_origin()
    if not origins:
        return view
    return csp_update({"img-src": origins})(view)  # type: ignore[return-value]


def map_context(points: Iterable[Location], *, element_id: str = "map-points") -> dict[str, Any]:
    data = [
        {
            "name": p.name,
            "lat": float(p.latitude),
            "lon": float(p.longitude),
            "url": p.get_absolute_url(),
        }
        for p in points
        if p.latitude is not None and p.longitude is not None
    ]
    return {
        "map_points": data,
        "map_points_id": element_id,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        "map_attribution_url": settings.MAP_TILE_ATTRIBUTION_URL,
    }


# A counter lists at most this many of its unit's services, then links the unit's page
# (paginated) for the rest: a unit may have hundreds, a mall dozens of counters (issue 17).
COUNTER_SERVICES_SHOWN = 10


def _services_by_unit(unit_ids: Iterable[int]) -> tuple[dict[int, list[Service]], dict[int, int]]:
    """The first COUNTER_SERVICES_SHOWN services with a published standard of each of these
    units, by name, and how many each unit has in all (one query, whatever their number)."""
    services = (
        Service.objects.filter(unit_id__in=list(unit_ids), versions__status=VersionStatus.PUBLISHED)
        .select_related("agency")
        .only("pk", "name", "slug", "unit_id", "agency__slug")
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("unit_id")], order_by=[F("name").asc(), F("pk").asc()]
            ),
            unit_total=Window(Count("pk"), partition_by=[F("unit_id")]),
        )
        .filter(position__lte=COUNTER_SERVICES_SHOWN)
        .order_by("name", "pk")
    )
    by_unit: dict[int, list[Service]] = {}
    totals: dict[int, int] = {}
    for service in services:
        by_unit.setdefault(service.unit_id, []).append(service)
        totals[service.unit_id] = service.unit_total
    return by_unit, totals


def _counters_with_services(location_ids: list[int]) -> dict[int, list[Counter]]:
    """Per location: its counters, each with `services` (its unit's first ones) and
    `more_services` (how many more the unit's page lists); two queries in all."""
    counters = list(counters_at(location_ids))
    services, totals = _services_by_unit({c.unit_id for c in counters})
    by_location: dict[int, list[Counter]] = {}
    for counter in counters:
        shown = services.get(counter.unit_id, [])
        counter.services = shown  # type: ignore[attr-defined]
        counter.more_services = totals.get(counter.unit_id, 0) - len(shown)  # type: ignore[attr-defined]
        by_location.setdefault(counter.location_id, []).append(counter)
    return by_location


@require_safe
@map_page
@public_page()
def location_detail(request: HttpRequest, slug: str) -> HttpResponse:
    location = get_object_or_404(Location.objects.select_related("host_agency"), slug=slug)
    counters = _counters_with_services([location.pk]).get(location.pk, [])
    agencies: dict[int, Any] = {}
    for counter in counters:
        agencies.setdefault(counter.unit.agency_id, counter.unit.agency)
    return render(
        request,
        "public/location_detail.html",
        {
            "location": location,
            "counters": counters,
            "agencies": list(agencies.values()),
            "today": location_today(location),
            "week": location_week(location),
            "facilities": facility_items(location.facilities),
            **map_context([location]),
        },
    )


@require_safe
@public_page()
def mpp_list(request: HttpRequest) -> HttpResponse:
    return render(request, "public/mpp_list.html", {"regions": mpp_by_region()})


@require_safe
@map_page
def locations_nearby(request: HttpRequest) -> HttpResponse:
    lat_text, lon_text = request.GET.get("lat", ""), request.GET.get("lon", "")
    context: dict[str, Any] = {
        "lat": lat_text[:40],
        "lon": lon_text[:40],
        "action": reverse("public:locations_near"),
        "error": "",
        "locations": None,
    }
    status = 200
    if lat_text or lon_text:
        try:
            lat, lon = parse_point(lat_text, lon_text)
        except PointError as exc:
            context["error"] = exc.message
            status = 400
        else:
            locations = locations_near(lat, lon)
            counters = _counters_with_services([loc.pk for loc in locations])
            for loc in locations:
                loc.counter_list = counters.get(loc.pk, [])  # type: ignore[attr-defined]
            context.update(locations=locations, point=(lat, lon), **map_context(locations))
    return render(request, "public/locations_near.html", context, status=status)
