from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from agencies.selectors import agencies_by_region
from charter.models import Charter, CharterStatus
from services.components import completeness
from services.models import Facility, Service, VersionStatus
from services.selectors import current_version, service_list_public


def home(request: HttpRequest) -> HttpResponse:
    services = list(service_list_public()[:12])
    return render(
        request,
        "public/home.html",
        {"services": services, "regions": agencies_by_region()},
    )


def service_detail(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    service = get_object_or_404(
        Service.objects.select_related("agency", "unit"), agency__slug=agency_slug, slug=slug
    )
    version = current_version(service)
    if version is None:
        raise Http404
    labels = dict(Facility.choices)
    charter = (
        Charter.objects.filter(unit_id=service.unit_id, status=CharterStatus.PUBLISHED)
        .only("pk", "pledge", "signatory_name", "signatory_title", "signed_on")
        .first()
    )
    older = service.versions.filter(
        status__in=[VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN]
    ).only("pk", "number", "status", "published_at", "superseded_at")
    return render(
        request,
        "public/service_detail.html",
        {
            "service": service,
            "version": version,
            "completeness": completeness(version),
            "facilities": [labels[f] for f in version.facilities if f in labels],
            "charter": charter,
            "older_versions": older,
        },
    )


def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    charter = get_object_or_404(
        Charter.objects.select_related("unit__agency").exclude(status=CharterStatus.DRAFT), pk=pk
    )
    services = charter.services.select_related("agency").order_by("name")
    return render(request, "public/charter_detail.html", {"charter": charter, "services": services})
