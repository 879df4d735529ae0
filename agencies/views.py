"""Public pages for agencies and units, and the agency league table."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from agencies.models import Agency, AgencyLevel, Unit
from charter.models import Charter, CharterStatus
from core.forms import Form
from services.search import StandardsFigures, standards_figures
from services.selectors import service_list_public


@require_safe
def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agency = get_object_or_404(Agency, slug=slug)
    units = list(agency.units.filter(is_active=True).order_by("name"))
    services = service_list_public().filter(agency=agency)
    charters = list(
        Charter.objects.filter(unit__agency=agency, status=CharterStatus.PUBLISHED)
        .select_related("unit")
        .order_by("unit__name")
    )
    figures = standards_figures(by="agency", ids=[agency.pk]).get(agency.pk, StandardsFigures())
    return render(
        request,
        "public/agency_detail.html",
        {
            "agency": agency,
            "units": units,
            "services": services,
            "charters": charters,
            "figures": figures,
        },
    )


@require_safe
def unit_detail(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    unit = get_object_or_404(
        Unit.objects.select_related("agency"), agency__slug=agency_slug, slug=slug
    )
    services = service_list_public().filter(unit=unit)
    charter = unit.charters.filter(status=CharterStatus.PUBLISHED).first()
    figures = standards_figures(by="unit", ids=[unit.pk]).get(unit.pk, StandardsFigures())
    return render(
        request,
        "public/unit_detail.html",
        {
            "unit": unit,
            "agency": unit.agency,
            "services": services,
            "charter": charter,
            "figures": figures,
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
def league(request: HttpRequest) -> HttpResponse:
    """Agencies ranked by the completeness of their published standards."""
    agencies = list(Agency.objects.order_by("name"))
    regions = sorted({a.region_name for a in agencies if a.region_name})
    form = LeagueFilterForm(request.GET or None, regions=regions)
    region = level = ""
    if form.is_valid():
        region, level = form.cleaned_data["region"], form.cleaned_data["level"]
    shown = [
        a
        for a in agencies
        if (not region or a.region_name == region) and (not level or a.level == level)
    ]
    figures = standards_figures(
        by="agency", ids=[a.pk for a in shown] if (region or level) else None
    )
    rows = [(agency, figures.get(agency.pk, StandardsFigures())) for agency in shown]
    rows.sort(
        key=lambda row: (
            row[1].published == 0,
            -(row[1].complete_percent or 0),
            -(row[1].mean_score or 0),
            -row[1].published,
            row[0].name,
        )
    )
    return render(
        request,
        "public/league.html",
        {"form": form, "rows": rows, "filtered": bool(region or level)},
    )
