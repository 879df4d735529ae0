"""Demo compliance assessments: one published period, so that the scorecards and the league
show grades.

The demo's ombudsman reviewer assesses every demo agency for the current year under the
method of that year, fills the visit's checklist and interview counts (deterministic per
agency, so the grades differ), computes the registry's indicators and publishes the period
through the app's own services. Idempotent: an agency already assessed is left alone, and
a published period is never published again.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agencies.models import Agency
from compliance import services
from compliance.models import Assessment, AssessmentMethod, AssessmentState, IndicatorKind

DEFAULT_SEED = 2025  # Peraturan Ombudsman 61/2025
# Each agency's visit: how its checklist tends to score (0..3), and how many interviewed
# answered well (a share).
LEVELS = (3, 3, 2, 2, 1)


def _method_for(year: int) -> AssessmentMethod | None:
    return (
        AssessmentMethod.objects.filter(year_from__lte=year)
        .filter(Q(year_to__isnull=True) | Q(year_to__gte=year))
        .order_by("-year_from")
        .first()
    )


def seed_compliance(*, seed: int = DEFAULT_SEED) -> int:
    """Assess and publish the current year; returns how many assessments were published."""
    reviewer = get_user_model().objects.filter(username="ombudsman", is_active=True).first()
    year = timezone.localdate().year
    method = _method_for(year)
    if reviewer is None or method is None:
        return 0
    with transaction.atomic():
        for agency in Agency.objects.order_by("slug"):
            if Assessment.objects.filter(
                method=method, agency=agency, unit__isnull=True, period=str(year)
            ).exists():
                continue
            assessment = services.assessment_create(
                method=method, agency=agency, year=year, acting_user=reviewer
            )
            _visit(assessment, reviewer, random.Random(f"{seed}:{agency.slug}"))  # noqa: S311
            services.assessment_compute(assessment=assessment, acting_user=reviewer)
        if not Assessment.objects.filter(
            method=method, period=str(year), state=AssessmentState.DRAFT
        ).exists():
            return 0
        return services.period_publish(method=method, period=str(year), acting_user=reviewer)


def _visit(assessment: Assessment, reviewer: object, rng: random.Random) -> None:
    level = rng.choice(LEVELS)
    for result in assessment.indicator_results.exclude(kind=IndicatorKind.COMPUTED).select_related(
        "indicator"
    ):
        if result.kind == IndicatorKind.CHECKLIST:
            value = max(0, min(3, level - rng.choice((0, 0, 1))))
            services.result_record(
                result=result,
                value=value,
                note="Diamati saat kunjungan lapangan (data demo).",
                acting_user=reviewer,
            )
        else:
            asked = result.indicator.count_expected or 4
            share = 0.5 + level / 6 - rng.random() * 0.2
            positive = max(0, min(asked, round(asked * share)))
            services.result_record(
                result=result, positive=positive, asked=asked, acting_user=reviewer
            )
