"""Reads of the satisfaction survey: results per unit (or service) and period.

The database adds up the scores (one grouped query over responses, one over the requests
completed in the same periods); every figure after the sums is feedback.skm's. A page
therefore runs a fixed number of queries whatever the number of responses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Field, Q, QuerySet, Sum
from django.db.models.functions import TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from delivery.models import DeliveryStatus, ServiceDelivery
from feedback.elements import ELEMENTS, SCORE_FIELDS, Element
from feedback.models import SkmFollowUp, SurveyChannel, SurveyResponse
from feedback.periods import period_bounds, period_of
from feedback.skm import SkmResult, krejcie_morgan, skm_result_from_sums
from services.models import Service


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    respondents: int
    result: SkmResult


@dataclass(frozen=True)
class ElementRow:
    element: Element
    nrr: object  # Decimal, as shown
    lowest: bool


@dataclass
class PeriodResult:
    """One period's survey result for a unit or a service."""

    period: str
    result: SkmResult
    population: int  # requests completed in the period (0: none recorded)
    by_channel: list[ChannelFigures] = field(default_factory=list)
    suggestions: int = 0
    suggestions_answered: int = 0  # of those, answered by the unit (staff area)
    change: object = None  # Decimal: converted index shown minus the previous period's

    @property
    def required_sample(self) -> int:
        return krejcie_morgan(self.population)

    @property
    def sample_reached(self) -> bool | None:
        """Whether enough people answered for the period's requests (None: no requests known)."""
        if self.population == 0:
            return None
        return self.result.respondents >= self.required_sample

    @property
    def suggestions_answered_share(self) -> int | None:
        """Percent of the period's suggestions the unit answered (None: no suggestions)."""
        if not self.suggestions:
            return None
        return round(100 * self.suggestions_answered / self.suggestions)

    @property
    def open_share(self) -> int:
        """Percent of the respondents who answered the open survey, not after a request."""
        open_count = sum(
            row.respondents for row in self.by_channel if row.channel == SurveyChannel.OPEN
        )
        return round(100 * open_count / self.result.respondents)

    @property
    def elements(self) -> list[ElementRow]:
        lowest = set(self.result.lowest_elements())
        return [
            ElementRow(element=element, nrr=shown, lowest=index in lowest)
            for index, (element, shown) in enumerate(
                zip(ELEMENTS, self.result.nrr_shown, strict=True)
            )
        ]


def _responses(*, unit: Unit, service: Service | None) -> QuerySet[SurveyResponse]:
    responses = SurveyResponse.objects.filter(unit=unit)
    if service is not None:
        responses = responses.filter(service=service)
    return responses


def _populations(*, unit: Unit, service: Service | None, since: dt.date) -> dict[str, int]:
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    deliveries = ServiceDelivery.objects.filter(
        unit=unit, status=DeliveryStatus.COMPLETED, completed_at__gte=start
    )
    if service is not None:
        deliveries = deliveries.filter(service=service)
    rows = (
        deliveries.annotate(quarter=TruncQuarter("completed_at", tzinfo=tz))
        .values("quarter")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {period_of(timezone.localdate(row["quarter"])): row["n"] for row in rows}


def skm_periods(*, unit: Unit, service: Service | None = None) -> list[PeriodResult]:
    """Every period with responses, oldest first, each with its change from the one before."""
    rows = (
        _responses(unit=unit, service=service)
        .values("period", "channel")
        .annotate(
            n=Count("id"),
            suggestions=Count("id", filter=~Q(suggestion="")),
            suggestions_answered=Count(
                "id", filter=~Q(suggestion="") & Q(suggestion_answered_at__isnull=False)
            ),
            **{name: Sum(name) for name in SCORE_FIELDS},
        )
        .order_by("period", "channel")
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[str(row["period"])].append(dict(row))
    if not grouped:
        return []
    populations = _populations(unit=unit, service=service, since=period_bounds(min(grouped))[0])
    results: list[PeriodResult] = []
    for period in sorted(grouped):
        channel_rows = grouped[period]
        sums = [sum(int(row[name]) for row in channel_rows) for name in SCORE_FIELDS]
        respondents = sum(int(row["n"]) for row in channel_rows)
        period_result = PeriodResult(
            period=period,
            result=skm_result_from_sums(sums=sums, respondents=respondents),
            population=populations.get(period, 0),
            suggestions=sum(int(row["suggestions"]) for row in channel_rows),
            suggestions_answered=sum(int(row["suggestions_answered"]) for row in channel_rows),
            by_channel=[
                ChannelFigures(
                    channel=str(row["channel"]),
                    respondents=int(row["n"]),
                    result=skm_result_from_sums(
                        sums=[int(row[name]) for name in SCORE_FIELDS],
                        respondents=int(row["n"]),
                    ),
                )
                for row in channel_rows
            ],
        )
        if results:
            period_result.change = (
                period_result.result.converted_shown - results[-1].result.converted_shown
            )
        results.append(period_result)
    return results


def survey_answered(*, delivery: ServiceDelivery) -> bool:
    return SurveyResponse.objects.filter(delivery=delivery).exists()


@dataclass(frozen=True)
class UnitPeriodResult:
    unit_id: int
    agency_id: int
    figures: PeriodResult


def _quarters(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, both included."""
    periods = []
    day = period_bounds(first)[0]
    while (period := period_of(day)) <= last:
        periods.append(period)
        day = period_bounds(period)[1]
    return periods


def skm_closed_period_results(*, since: dt.datetime, now: dt.datetime) -> list[UnitPeriodResult]:
    """Each unit's result for the closed periods the sweep must (re)examine.

    Those are the periods that closed since `since`, and the closed periods that received a
    response since then (a late import). One grouped query over their responses, one over
    their completed requests; the arithmetic is feedback.skm's.
    """
    current = period_of(timezone.localdate(now))
    first_open = period_of(timezone.localdate(since))
    candidates = set(_quarters(first_open, current)) - {current}
    candidates |= set(
        SurveyResponse.objects.filter(submitted_at__gte=since, period__lt=current)
        .values_list("period", flat=True)
        .distinct()
    )
    if not candidates:
        return []
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in SurveyResponse.objects.filter(period__in=candidates)
        .values("unit_id", "agency_id", "period")
        .annotate(n=Count("id"), **{name: Sum(name) for name in SCORE_FIELDS})
        .order_by("unit_id", "period")
    ]
    if not rows:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(period_bounds(min(candidates))[0], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period_bounds(max(candidates))[1], dt.time.min, tzinfo=tz)
    populations = {
        (row["unit_id"], period_of(timezone.localdate(row["quarter"]))): row["n"]
        for row in ServiceDelivery.objects.filter(
            unit_id__in={row["unit_id"] for row in rows},
            status=DeliveryStatus.COMPLETED,
            completed_at__gte=start,
            completed_at__lt=end,
        )
        .annotate(quarter=TruncQuarter("completed_at", tzinfo=tz))
        .values("unit_id", "quarter")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        UnitPeriodResult(
            unit_id=row["unit_id"],
            agency_id=row["agency_id"],
            figures=PeriodResult(
                period=row["period"],
                result=skm_result_from_sums(
                    sums=[int(row[name]) for name in SCORE_FIELDS], respondents=int(row["n"])
                ),
                population=populations.get((row["unit_id"], row["period"]), 0),
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ProfileCount:
    value: str  # the stored choice, "" for "not stated"
    label: object  # str or lazy translation
    count: int


@dataclass(frozen=True)
class ProfileGroup:
    field: str
    label: object
    counts: list[ProfileCount]


@dataclass(frozen=True)
class Suggestion:
    """A respondent's suggestion and the unit's answer ("" if not answered yet)."""

    text: str
    answer: str = ""


@dataclass(frozen=True)
class SkmReport:
    """One unit's survey report for one period, in the shape agencies publish."""

    unit: Unit
    period: str
    start: dt.date  # first day of the period
    end: dt.date  # last day of the period
    figures: PeriodResult | None  # None: nobody answered in the period
    profile: list[ProfileGroup]
    suggestions: list[Suggestion]
    follow_up: str = ""  # the follow-up the unit plans (SkmFollowUp), "" if none yet


# The respondent's profile as the questionnaire asks it (PermenPANRB 14/2017, annex).
PROFILE_FIELDS: tuple[str, ...] = ("age_band", "sex", "education", "occupation")


def _profile_field(name: str) -> Field[Any, Any]:
    model_field = SurveyResponse._meta.get_field(name)
    assert isinstance(model_field, Field)
    return model_field


def _profile(*, responses: QuerySet[SurveyResponse]) -> list[ProfileGroup]:
    """Counts per answer of each profile question, in one aggregate row (one query)."""
    aggregates: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        for value, _label in [*(_profile_field(name).choices or []), ("", "")]:
            aggregates[f"{name}__{value}"] = Count("id", filter=Q(**{name: value}))
    row = responses.aggregate(**aggregates)
    groups = []
    for name in PROFILE_FIELDS:
        model_field = _profile_field(name)
        counts = [
            ProfileCount(value=str(value), label=label, count=int(row[f"{name}__{value}"]))
            for value, label in model_field.choices or []
        ]
        counts.append(ProfileCount(value="", label=_("Not stated"), count=int(row[f"{name}__"])))
        groups.append(ProfileGroup(field=name, label=model_field.verbose_name, counts=counts))
    return groups


def skm_report(*, unit: Unit, period: str) -> SkmReport:
    """The unit's report for `period` (ValueError if `period` is not one, see feedback.periods).

    Every figure is skm_periods' (so feedback.skm's): the report adds the respondents'
    profile, the suggestions' text with the unit's answers (never who wrote them) and the
    follow-up the unit plans. Five queries at most, whatever the number of responses.
    """
    start, after = period_bounds(period)
    follow_up = (
        SkmFollowUp.objects.filter(unit=unit, period=period).values_list("plan", flat=True).first()
        or ""
    )
    figures = next((p for p in skm_periods(unit=unit) if p.period == period), None)
    if figures is None:
        return SkmReport(
            unit=unit,
            period=period,
            start=start,
            end=after - dt.timedelta(days=1),
            figures=None,
            profile=[],
            suggestions=[],
            follow_up=follow_up,
        )
    responses = _responses(unit=unit, service=None).filter(period=period)
    suggestions = [
        Suggestion(text=text, answer=answer)
        for text, answer in responses.exclude(suggestion="")
        .order_by("submitted_at", "pk")
        .values_list("suggestion", "suggestion_answer")
    ]
    return SkmReport(
        unit=unit,
        period=period,
        start=start,
        end=after - dt.timedelta(days=1),
        figures=figures,
        profile=_profile(responses=responses),
        suggestions=suggestions,
        follow_up=follow_up,
    )
