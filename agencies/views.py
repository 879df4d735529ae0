from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from agencies.models import Agency, Unit
from charter.models import CharterStatus
from services.selectors import service_list_public


def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agency = get_object_or_404(Agency, slug=slug)
    units = agency.units.filter(is_active=True).order_by("name")
    services = service_list_public().filter(agency=agency)
    return render(
        request,
        "public/agency_detail.html",
        {"agency": agency, "units": units, "services": services},
    )


def unit_detail(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    unit = get_object_or_404(
        Unit.objects.select_related("agency"), agency__slug=agency_slug, slug=slug
    )
    services = service_list_public().filter(unit=unit)
    charter = unit.charters.filter(status=CharterStatus.PUBLISHED).first()
    return render(
        request,
        "public/unit_detail.html",
        {"unit": unit, "agency": unit.agency, "services": services, "charter": charter},
    )
