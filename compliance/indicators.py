"""Computed indicators: the registry's own data, read through the apps' selectors.

A computation takes the subject (an agency, or one of its units, and the period) and
returns a `Reading`: a score of 0..100 (None when there is nothing to measure) and the
figures behind it, stored with the assessment and shown on the scorecard.

The registry is pluggable: a method names a computation by key, and a key nobody has
registered reads as "no data yet"; so does a computation with nothing to measure in the
period (no complaint answer fell due, no corrective action fell due). How a missing indicator
counts is the method's `missing_policy` (compliance.scoring).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from agencies.models import Agency, Unit
from cases.selectors import corrective_actions_on_time as action_record
from charter.models import Charter, CharterStatus
from compliance.scoring import share_score
from delivery.selectors import performance_figures
from feedback.complaints.models import Complaint
from feedback.elements import SCORE_FIELDS
from feedback.models import SurveyResponse
from feedback.periods import period_of
from feedback.skm import skm_result_from_sums
from services.models import Service, StandardVersion, VersionStatus
from services.search import standards_figures


@dataclass(frozen=True)
class Subject:
    agency: Agency
    unit: Unit | None
    starts_on: dt.date
    ends_on: dt.date

    @property
    def until(self) -> dt.date:
        """The last day measured: the period's end, or today while the period runs."""
        return min(self.ends_on, timezone.localdate())


@dataclass(frozen=True)
class Reading:
    score: Fraction | None
    figures: dict[str, Any] = field(default_factory=dict)


Computation = Callable[[Subject], Reading]
REGISTRY: dict[str, Computation] = {}


def register(key: str) -> Callable[[Computation], Computation]:
    def add(function: Computation) -> Computation:
        REGISTRY[key] = function
        return function

    return add


def compute(key: str, subject: Subject) -> Reading | None:
    """The reading of computation `key`, or None when no source for it exists yet."""
    function = REGISTRY.get(key)
    return None if function is None else function(subject)


def _published_versions(subject: Subject) -> Any:
    versions = StandardVersion.objects.filter(
        status=VersionStatus.PUBLISHED, service__agency_id=subject.agency.pk
    )
    if subject.unit is not None:
        versions = versions.filter(service__unit_id=subject.unit.pk)
    return versions


@register("standards_complete")
def standards_complete(subject: Subject) -> Reading:
    """Share of the published standards that hold all 14 components."""
    if subject.unit is not None:
        figures = standards_figures(by="unit", ids=[subject.unit.pk]).get(subject.unit.pk)
    else:
        figures = standards_figures(by="agency", ids=[subject.agency.pk]).get(subject.agency.pk)
    published = figures.published if figures else 0
    complete = figures.complete if figures else 0
    return Reading(
        share_score(complete, published),
        {"published": published, "complete": complete, "as_of": _today()},
    )


@register("standards_current")
def standards_current(subject: Subject) -> Reading:
    """Share of the published standards not past their review date at the period's end."""
    row = _published_versions(subject).aggregate(
        published=Count("pk"),
        current=Count(
            "pk",
            filter=Q(next_review_date__isnull=True) | Q(next_review_date__gte=subject.until),
        ),
    )
    return Reading(
        share_score(row["current"], row["published"]),
        {"published": row["published"], "current": row["current"], "as_of": _today()},
    )


@register("charter_in_force")
def charter_in_force(subject: Subject) -> Reading:
    """Share of the units with a published standard that have a published charter."""
    services = Service.objects.filter(
        agency_id=subject.agency.pk, versions__status=VersionStatus.PUBLISHED
    )
    if subject.unit is not None:
        services = services.filter(unit_id=subject.unit.pk)
    unit_ids = set(services.values_list("unit_id", flat=True).distinct())
    with_charter = set(
        Charter.objects.filter(unit_id__in=unit_ids, status=CharterStatus.PUBLISHED)
        .values_list("unit_id", flat=True)
        .distinct()
    )
    return Reading(
        share_score(len(with_charter), len(unit_ids)),
        {"units": len(unit_ids), "with_charter": len(with_charter), "as_of": _today()},
    )


def _performance(subject: Subject) -> Any:
    return performance_figures(
        agency=subject.agency if subject.unit is None else None,
        unit=subject.unit,
        since=subject.starts_on,
        until=max(subject.until, subject.starts_on),
        use_cache=False,
    )


@register("on_time_rate")
def on_time_rate(subject: Subject) -> Reading:
    """Share of the requests completed in the period within the promised time. Below the
    registry's minimum sample the rate is withheld, as on every public page: no data."""
    figures = _performance(subject)
    value = (
        share_score(figures.on_time, figures.completed)
        if figures.on_time_rate is not None
        else None
    )
    return Reading(
        value,
        {
            "completed": figures.completed,
            "on_time": figures.on_time,
            "min_sample": figures.min_sample,
            "since": subject.starts_on.isoformat(),
            "until": subject.until.isoformat(),
        },
    )


@register("no_overcharge")
def no_overcharge(subject: Subject) -> Reading:
    """Share of the requests completed in the period charged no more than the promised cost."""
    figures = _performance(subject)
    value = (
        share_score(figures.completed - figures.overcharged, figures.completed)
        if figures.on_time_rate is not None
        else None
    )
    return Reading(
        value,
        {
            "completed": figures.completed,
            "overcharged": figures.overcharged,
            "min_sample": figures.min_sample,
            "since": subject.starts_on.isoformat(),
            "until": subject.until.isoformat(),
        },
    )


@register("skm_index")
def skm_index(subject: Subject) -> Reading:
    """The satisfaction survey's converted index (25..100) over the period's quarters."""
    periods = _quarters(subject.starts_on, subject.until)
    responses = SurveyResponse.objects.filter(agency_id=subject.agency.pk, period__in=periods)
    if subject.unit is not None:
        responses = responses.filter(unit_id=subject.unit.pk)
    row = responses.aggregate(n=Count("pk"), **{name: Sum(name) for name in SCORE_FIELDS})
    if not row["n"]:
        return Reading(None, {"respondents": 0, "periods": periods})
    result = skm_result_from_sums(
        sums=[int(row[name]) for name in SCORE_FIELDS], respondents=int(row["n"])
    )
    return Reading(
        result.converted,
        {
            "respondents": result.respondents,
            "converted": str(result.converted_shown),
            "grade": result.grade,
            "periods": periods,
        },
    )


def _window(subject: Subject) -> tuple[dt.datetime, dt.datetime]:
    """The subject's days as [start, end) in local time: the period's first day to the day
    after the last day measured."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(subject.starts_on, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(subject.until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


@register("complaint_handling_time")
def complaint_handling_time(subject: Subject) -> Reading:
    """Of the complaints whose first answer fell due in the period (on the unit's calendar,
    feedback.complaints), the share answered by then. A complaint still unanswered past its
    due time counts as late; one not yet due is not counted."""
    start, end = _window(subject)
    now = timezone.now()
    complaints = Complaint.objects.filter(
        agency_id=subject.agency.pk, answer_due_at__gte=start, answer_due_at__lt=end
    ).filter(Q(answer_due_at__lt=now) | Q(first_answered_at__isnull=False))
    if subject.unit is not None:
        complaints = complaints.filter(unit_id=subject.unit.pk)
    row = complaints.aggregate(
        due=Count("pk"),
        in_time=Count(
            "pk",
            filter=Q(first_answered_at__isnull=False, first_answered_at__lte=F("answer_due_at")),
        ),
    )
    return Reading(
        share_score(row["in_time"], row["due"]),
        {
            "due": row["due"],
            "answered_in_time": row["in_time"],
            "since": subject.starts_on.isoformat(),
            "until": subject.until.isoformat(),
        },
    )


@register("corrective_actions_on_time")
def corrective_actions_on_time(subject: Subject) -> Reading:
    """Of the agency's corrective actions (the Ombudsman's findings, cases app) whose deadline
    fell in the period, the share done (reported and accepted) by the deadline. Actions are
    addressed to the agency, so a unit's assessment reads its agency's record."""
    record = action_record(subject.agency, period=_window(subject))
    return Reading(
        share_score(record.done_on_time, record.due),
        {
            "due": record.due,
            "done_on_time": record.done_on_time,
            "done_late": record.done_late,
            "pending": record.pending,
            "since": subject.starts_on.isoformat(),
            "until": subject.until.isoformat(),
        },
    )


def _quarters(first: dt.date, last: dt.date) -> list[str]:
    periods: list[str] = []
    day = first
    while day <= last:
        period = period_of(day)
        if period not in periods:
            periods.append(period)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return periods


def _today() -> str:
    return timezone.localdate().isoformat()
