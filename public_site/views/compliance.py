"""The Ombudsman's compliance opinion in public: the method page, an agency's scorecard.

Both read only what publication stored (compliance.selectors), never the live data; each
runs a fixed number of queries whatever the number of agencies, periods or indicators.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from agencies.models import Agency
from compliance.models import AssessmentMethod, BandScale, Indicator
from compliance.selectors import scorecard


@require_safe
def method_detail(request: HttpRequest, code: str) -> HttpResponse:
    method = get_object_or_404(
        AssessmentMethod.objects.prefetch_related(
            "dimensions",
            Prefetch("dimensions__indicators", queryset=Indicator.objects.order_by("position")),
            "bands",
        ),
        code=code,
    )
    bands = list(method.bands.all())
    return render(
        request,
        "public/compliance_method.html",
        {
            "method": method,
            "methods": AssessmentMethod.objects.order_by("year_from"),
            "grade_bands": [b for b in bands if b.scale == BandScale.GRADE],
            "potential_bands": [b for b in bands if b.scale == BandScale.POTENTIAL],
            "unsourced": any(not b.sourced for b in bands)
            or any(not d.weight_sourced for d in method.dimensions.all()),
        },
    )


@require_safe
def agency_scorecard(request: HttpRequest, slug: str) -> HttpResponse:
    agency = get_object_or_404(Agency, slug=slug)
    card = scorecard(agency=agency)
    dimensions = []
    if card.latest is not None:
        results = list(card.latest.indicator_results.all())
        for dimension in card.latest.dimension_results.all():
            dimensions.append(
                (dimension, [r for r in results if r.dimension_code == dimension.code])
            )
    return render(
        request,
        "public/compliance_scorecard.html",
        {"agency": agency, "card": card, "dimensions": dimensions},
    )
