"""The composed public pages: home, search, service standard and older versions, charter,
agency and unit pages, the league of agencies, robots.txt.

Anonymous and read-only. Each page runs a small, fixed number of queries; a list that grows
with the data (an agency's, a unit's or a charter's services, the league) is shown a page at
a time (core.pagination: `?page=`, anything else than a page that exists is a 404; the
agency page's units and charters by `?units_page=` and `?charters_page=`); the body
of a standard version (requirements, procedure, costs, the rest of the 14 components) is
rendered once per version and language and cached, since a published version never changes.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from agencies.facilities import facility_items
from agencies.locations import counters_of_unit
from agencies.models import Agency, AgencyLevel, Unit
from agencies.selectors import agencies_by_region, agency_regions, unit_week
from cases.selectors import public_record
from charter.models import Charter, CharterStatus
from compliance.selectors import latest_published_by_agency, rank_by_opinion
from core.forms import Form
from core.page_cache import _is_live as visitor_is_live
from core.page_cache import agency_scope, public_page
from core.page_cache import enabled as page_cache_enabled
from core.pagination import PAGE_PARAMETER, page_or_404, pages_or_404
from lifeevents.selectors import life_events_for_service
from public_site.search_cache import (
    agency_rows_cached,
    filter_block_cached,
    search_results_cached,
)
from services.components import completeness
from services.deadline_example import unit_example
from services.models import Facility, Service, StandardVersion, TimeUnit, VersionStatus
from services.search import (
    SearchForm,
    SearchPage,
    StandardsFigures,
    service_search_page,
    standards_figures,
)
from services.selectors import (
    VERSION_CHILDREN,
    agency_list_by_completeness,
    service_list_public,
)

BODY_CACHE_SECONDS = 24 * 60 * 60
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@require_safe
@public_page()
def home(request: HttpRequest) -> HttpResponse:
    services = list(service_list_public()[:12])
    return render(
        request,
        "public/home.html",
        {"services": services, "regions": agencies_by_region()},
    )


# The parameters the search page reads; a request with any other one is rendered live.
SEARCH_PARAMETERS = (
    "q",
    "agency",
    "region",
    "category",
    "channel",
    "facility",
    "free",
    "max_days",
    "page",
)


def _results_html(results: SearchPage) -> str:
    """The results list of a search page, in the active language (cached with the results
    for anonymous visitors: public_site.search_cache)."""
    return render_to_string(
        "public/_search_results.html",
        {"services": results.services, "start": results.page().start_index()},
    )


# The search form's filters: the fields its filter block shows.
FILTER_FIELDS = ("agency", "region", "category", "channel", "facility", "max_days", "free")


def _filter_block(form: SearchForm) -> str:
    """The search form's filter block (cached per filter values for anonymous visitors:
    public_site.search_cache)."""
    return render_to_string("public/_search_filters.html", {"form": form})


@require_safe
@public_page(query=SEARCH_PARAMETERS)
def search(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("page")
    if page_cache_enabled() and not visitor_is_live(request):
        token, agencies = agency_rows_cached()
        form = SearchForm(request.GET or None, agencies=agencies)
        filters = form.filters()
        results, html, _outcome = search_results_cached(
            filters=filters, number=number, render=_results_html
        )
        values = [(name, request.GET.getlist(name)) for name in FILTER_FIELDS]
        filter_block = filter_block_cached(
            token=token, values=values, render=lambda: _filter_block(form)
        )
    else:
        form = SearchForm(request.GET or None)
        filters = form.filters()
        results = service_search_page(filters=filters, number=number)
        html = _results_html(results)
        filter_block = _filter_block(form)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "public/search.html",
        {
            "form": form,
            "filters": filters,
            "page": results.page(),
            "services": results.services,
            "results_html": mark_safe(html),  # noqa: S308 - rendered by our own autoescaping template
            "filter_block": mark_safe(filter_block),  # noqa: S308 - as the results
            "capped": results.capped,
            "more": results.more,
            "querystring": params.urlencode(),
        },
    )


def _body(version: StandardVersion) -> SafeString:
    """The version's standard, rendered (cached per version and language: it never changes)."""
    language = translation.get_language()
    stamp = version.published_at.isoformat() if version.published_at else "draft"
    key = f"public:standard-body:v1:{version.pk}:{stamp}:{language}"
    html = cache.get(key)
    if html is None:
        prefetch_related_objects([version], *VERSION_CHILDREN)
        labels = dict(Facility.choices)
        html = render_to_string(
            "public/_standard_body.html",
            {
                "version": version,
                "completeness": completeness(version),
                "facilities": [labels[f] for f in version.facilities if f in labels],
            },
        )
        if version.status in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED):
            cache.set(key, html, BODY_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by our own autoescaping template


def _json_ld(request: HttpRequest, service: Service, version: StandardVersion) -> SafeString:
    """schema.org GovernmentService, safe to embed in a <script> element."""
    agency, unit = service.agency, service.unit
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "ID"}
    if agency.address:
        address["streetAddress"] = agency.address
    if agency.region_name:
        address["addressRegion"] = agency.region_name
    provider: dict[str, Any] = {
        "@type": "GovernmentOrganization",
        "name": agency.name,
        "url": request.build_absolute_uri(agency.get_absolute_url()),
        "address": address,
    }
    if agency.phone:
        provider["telephone"] = agency.phone
    if agency.email:
        provider["email"] = agency.email
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": service.name,
        "serviceType": str(service.get_category_display()),
        "url": request.build_absolute_uri(service.get_absolute_url()),
        "provider": provider,
        "areaServed": {
            "@type": "AdministrativeArea",
            "name": agency.region_name or "Indonesia",
        },
        "availableChannel": {
            "@type": "ServiceChannel",
            "name": unit.name,
            "serviceLocation": {
                "@type": "GovernmentOffice",
                "name": unit.name,
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": unit.address or agency.address,
                    "addressCountry": "ID",
                },
            },
        },
        "offers": {
            "@type": "Offer",
            "price": 0 if version.is_free else version.total_cost,
            "priceCurrency": "IDR",
        },
    }
    if service.summary or version.product:
        data["description"] = service.summary or version.product
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308 - escaped above


def _service_and_versions(
    agency_slug: str, slug: str
) -> tuple[Service, list[StandardVersion], Charter | None]:
    service = get_object_or_404(
        Service.objects.select_related("agency", "unit"), agency__slug=agency_slug, slug=slug
    )
    versions = list(
        service.versions.filter(
            status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN]
        ).order_by("-number")
    )
    service.unit.agency = service.agency
    for version in versions:
        version.service = service
    charter = (
        Charter.objects.filter(unit_id=service.unit_id, status=CharterStatus.PUBLISHED)
        .only("pk", "pledge", "signatory_name", "signatory_title", "signed_on", "unit_id")
        .first()
    )
    return service, versions, charter


@require_safe
@public_page(scope=agency_scope)
def service_detail(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    service, versions, charter = _service_and_versions(agency_slug, slug)
    version = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    if version is None:
        raise Http404
    today = timezone.localdate()
    unit = version.processing_time_unit
    start, due = unit_example(service.unit, today, version.processing_time_value, unit)
    return render(
        request,
        "public/service_detail.html",
        {
            "service": service,
            "version": version,
            "body": _body(version),
            "json_ld": _json_ld(request, service, version),
            "charter": charter,
            "older_versions": [v for v in versions if v is not version],
            "example_start": start,
            "example_due": due,
            "same_day": unit in (TimeUnit.HOURS, TimeUnit.MINUTES),
            "working_days": unit == TimeUnit.WORKING_DAYS,
            "review_overdue": bool(version.next_review_date and version.next_review_date < today),
            "where": list(counters_of_unit(service.unit_id)),
            "life_events": life_events_for_service(service),
            "ombudsman": public_record(service=service),
        },
    )


@require_safe
@public_page(scope=agency_scope)
def service_version(request: HttpRequest, agency_slug: str, slug: str, number: int) -> HttpResponse:
    """An older (superseded or withdrawn) version, kept readable for the record."""
    service, versions, _charter = _service_and_versions(agency_slug, slug)
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise Http404
    current = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    return render(
        request,
        "public/service_version.html",
        {
            "service": service,
            "version": version,
            "current": current,
            "body": _body(version),
            "versions": versions,
        },
    )


@require_safe
@public_page(query=(PAGE_PARAMETER,))
def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    charter = get_object_or_404(
        Charter.objects.select_related("unit__agency").exclude(status=CharterStatus.DRAFT), pk=pk
    )
    services_page = page_or_404(
        request,
        charter.services.select_related("agency")
        .only("pk", "name", "slug", "agency__slug")
        .order_by("name", "pk"),
    )
    current = None
    if charter.status != CharterStatus.PUBLISHED:
        current = Charter.objects.filter(
            unit_id=charter.unit_id, status=CharterStatus.PUBLISHED
        ).first()
    return render(
        request,
        "public/charter_detail.html",
        {
            "charter": charter,
            "services": list(services_page.object_list),
            "services_page": services_page,
            "current": current,
        },
    )


# The agency page's three lists, each paged by its own parameter (core.pagination: one list
# at a time); the services keep `page`, the page's main list.
UNITS_PAGE_PARAMETER = "units_page"
CHARTERS_PAGE_PARAMETER = "charters_page"
AGENCY_PAGE_PARAMETERS = (PAGE_PARAMETER, UNITS_PAGE_PARAMETER, CHARTERS_PAGE_PARAMETER)
# Named in the title of a units' or charters' page past the first (the services' need none).
AGENCY_LIST_TITLES = {
    UNITS_PAGE_PARAMETER: _("Service units"),
    CHARTERS_PAGE_PARAMETER: _("Citizen charters"),
}


@require_safe
@public_page(scope=agency_scope, query=AGENCY_PAGE_PARAMETERS)
def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agency = get_object_or_404(Agency, slug=slug)
    # Paginated: an agency may have thousands of services, and hundreds of units (a
    # province's health office and every puskesmas) with their charters (issue 17).
    lists = pages_or_404(
        request,
        {
            PAGE_PARAMETER: service_list_public().filter(agency=agency),
            UNITS_PAGE_PARAMETER: agency.units.filter(is_active=True).order_by("name", "pk"),
            CHARTERS_PAGE_PARAMETER: Charter.objects.filter(
                unit__agency=agency, status=CharterStatus.PUBLISHED
            )
            .select_related("unit")
            .order_by("unit__name", "pk"),
        },
    )
    figures = standards_figures(by="agency", ids=[agency.pk]).get(agency.pk, StandardsFigures())
    return render(
        request,
        "public/agency_detail.html",
        {
            "agency": agency,
            "units": list(lists[UNITS_PAGE_PARAMETER].object_list),
            "units_page": lists[UNITS_PAGE_PARAMETER],
            "services": list(lists[PAGE_PARAMETER].object_list),
            "services_page": lists[PAGE_PARAMETER],
            "charters": list(lists[CHARTERS_PAGE_PARAMETER].object_list),
            "charters_page": lists[CHARTERS_PAGE_PARAMETER],
            # The list this address pages: its canonical and prev/next links, its title.
            "list_page": lists.current,
            "list_title": AGENCY_LIST_TITLES.get(lists.current.parameter, ""),
            "figures": figures,
            "ombudsman": public_record(agency=agency),
        },
    )


@require_safe
@public_page(scope=agency_scope, query=(PAGE_PARAMETER,))
def unit_detail(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    unit = get_object_or_404(
        Unit.objects.select_related("agency", "calendar", "agency__calendar"),
        agency__slug=agency_slug,
        slug=slug,
    )
    services_page = page_or_404(request, service_list_public().filter(unit=unit))
    charters = list(
        unit.charters.exclude(status=CharterStatus.DRAFT)
        .only("pk", "number", "status", "pledge", "signed_on", "unit_id")
        .order_by("-number")
    )
    charter = next((c for c in charters if c.status == CharterStatus.PUBLISHED), None)
    earlier = [c for c in charters if c is not charter]
    figures = standards_figures(by="unit", ids=[unit.pk]).get(unit.pk, StandardsFigures())
    return render(
        request,
        "public/unit_detail.html",
        {
            "unit": unit,
            "agency": unit.agency,
            "services": list(services_page.object_list),
            "services_page": services_page,
            "charter": charter,
            "earlier_charters": earlier,
            "figures": figures,
            "week": unit_week(unit),
            "facilities": facility_items(unit.facilities),
            "where": list(counters_of_unit(unit.pk)),
        },
    )


class LeagueFilterForm(Form):
    region = forms.ChoiceField(label=_("Region"), required=False)
    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        choices=[("", _("All levels")), *AgencyLevel.choices],
    )

    def __init__(self, *args: Any, regions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("All regions")), *((r, r) for r in regions)]


@require_safe
@public_page(query=("region", "level", PAGE_PARAMETER))
def league(request: HttpRequest) -> HttpResponse:
    """Agencies ranked by the completeness of their published standards, a page at a time
    (a country has several hundred agencies)."""
    form = LeagueFilterForm(request.GET or None, regions=agency_regions())
    region = level = ""
    if form.is_valid():
        region, level = form.cleaned_data["region"], form.cleaned_data["level"]
    rows = agency_list_by_completeness(region=region, level=level)
    # Once the Ombudsman has published a period, the league ranks by its opinion.
    opinions = latest_published_by_agency()
    if opinions:
        rows = rank_by_opinion(rows, opinions)
    page = page_or_404(request, rows)
    params = request.GET.copy()
    params.pop(PAGE_PARAMETER, None)
    return render(
        request,
        "public/league.html",
        {
            "form": form,
            "rows": page.object_list,
            "page": page,
            "querystring": params.urlencode(),
            "filtered": bool(region or level),
            "opinions": opinions,
        },
    )


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    private = ["/staff/", "/accounts/", "/admin/", "/api/", "/search/"]
    lines = ["User-agent: *"]
    for path in private:
        lines.append(f"Disallow: {path}")
    for code, _name in settings.LANGUAGES:
        if code != settings.LANGUAGE_CODE:
            lines += [f"Disallow: /{code}{path}" for path in private if path != "/api/"]
    lines += ["", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
