"""Reads of published assessments: the scorecard, the league's grades, the exports.

Pages read only what publication stored (the frozen rows), never the live data; each read
is a fixed number of queries whatever the number of agencies or periods.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet, Subquery, prefetch_related_objects

from agencies.models import Agency
from compliance.models import (
    Assessment,
    AssessmentState,
    DimensionResult,
    IndicatorResult,
)


def published() -> QuerySet[Assessment]:
    return Assessment.objects.filter(state=AssessmentState.PUBLISHED)


@dataclass(frozen=True)
class Scorecard:
    agency: Agency
    latest: Assessment | None
    trend: list[Assessment]  # oldest first, agency-level assessments only


def scorecard(*, agency: Agency) -> Scorecard:
    """The agency's published assessments (its own, not its units'): the latest with each
    dimension and the indicators and figures behind each number, and the trend. Three
    queries."""
    trend = list(
        published()
        .filter(agency=agency, unit__isnull=True)
        .select_related("method")
        .order_by("period", "published_at", "pk")
    )
    if not trend:
        return Scorecard(agency=agency, latest=None, trend=[])
    latest = trend[-1]
    prefetch = [
        Prefetch(
            "dimension_results",
            queryset=DimensionResult.objects.order_by("position", "pk"),
        ),
        Prefetch(
            "indicator_results",
            queryset=IndicatorResult.objects.order_by("position", "pk").prefetch_related(
                "evidence"
            ),
        ),
    ]
    prefetch_related_objects([latest], *prefetch)
    return Scorecard(agency=agency, latest=latest, trend=trend)


OPINIONS_CACHE_KEY = "compliance:league-opinions:v1"
OPINIONS_CACHE_SECONDS = 10 * 60


def latest_published_by_agency() -> dict[int, Assessment]:
    """Each agency's assessment in the latest published period (agency-level): one query,
    then cached until the next publication (compliance.services.period_publish clears it)."""
    cached = cache.get(OPINIONS_CACHE_KEY)
    if isinstance(cached, dict):
        return cached
    latest_period = published().filter(unit__isnull=True).order_by("-period").values("period")[:1]
    rows = (
        published()
        .filter(unit__isnull=True, period=Subquery(latest_period))
        .select_related("method")
        .order_by("agency_id", "-published_at", "-pk")
    )
    opinions: dict[int, Assessment] = {}
    for assessment in rows:
        opinions.setdefault(assessment.agency_id, assessment)
    cache.set(OPINIONS_CACHE_KEY, opinions, OPINIONS_CACHE_SECONDS)
    return opinions


EXPORT_COLUMNS = (
    "period",
    "method",
    "agency",
    "agency_slug",
    "unit",
    "score",
    "grade",
    "zone",
    "label",
    "coverage_percent",
    "published_at",
    "dimension",
    "dimension_weight",
    "dimension_score",
)


def export_rows(*, chunk_size: int = 1000) -> Iterator[tuple[Any, ...]]:
    """One row per published assessment and dimension, streamed from one query in chunks
    (server-side cursor on PostgreSQL): memory stays flat whatever the number."""
    rows = (
        DimensionResult.objects.filter(assessment__state=AssessmentState.PUBLISHED)
        .order_by("-assessment__period", "assessment__agency__name", "assessment_id", "position")
        .values_list(
            "assessment__period",
            "assessment__method__code",
            "assessment__agency__name",
            "assessment__agency__slug",
            "assessment__unit__name",
            "assessment__score",
            "assessment__grade",
            "assessment__zone",
            "assessment__label_id",
            "assessment__coverage",
            "assessment__published_at",
            "code",
            "weight",
            "score",
        )
    )
    yield from rows.iterator(chunk_size=chunk_size)


def rank_by_opinion(
    rows: list[tuple[Agency, Any]], opinions: dict[int, Assessment]
) -> list[tuple[Agency, Any]]:
    """The league's rows ranked by the published opinion (score best first; agencies without
    one after, in their previous order), each agency carrying it as `compliance_opinion`."""
    for agency, _figures in rows:
        agency.compliance_opinion = opinions.get(agency.pk)  # type: ignore[attr-defined]
    return sorted(
        rows,
        key=lambda row: (
            opinions.get(row[0].pk) is None or opinions[row[0].pk].score is None,
            -(opinions[row[0].pk].score or 0) if row[0].pk in opinions else 0,
        ),
    )
