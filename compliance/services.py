"""Writes of the compliance assessment: create, enter the checklist, compute, publish.

Every write asks the policy (ombudsman reviewers decide compliance scores: DECIDE_BREACH)
and refuses to touch a published assessment: publishing freezes the stored results, so
later data changes nothing on the scorecard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Unit
from agencies.policy import Action, can, grant_for
from compliance import indicators
from compliance.methods import method_spec
from compliance.models import (
    Assessment,
    AssessmentMethod,
    AssessmentState,
    DimensionResult,
    Evidence,
    IndicatorKind,
    IndicatorResult,
)
from compliance.scoring import (
    DimensionSpec,
    IndicatorSpec,
    checklist_score,
    score,
    share_score,
)
from compliance.selectors import OPINIONS_CACHE_KEY
from core.audit import mark_history, person
from core.errors import ApplicationError, PermissionDeniedError
from feedback.skm import round_half_up
from oversight.answers import ATTACHMENT_SIGNATURES, check_attachment

EVIDENCE_MAX_PER_INDICATOR = 10


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _check_reviewer(user: Any, obj: Any) -> None:
    if not can(user, Action.DECIDE_BREACH, obj):
        raise PermissionDeniedError()


def _check_draft(assessment: Assessment) -> None:
    if assessment.state != AssessmentState.DRAFT:
        raise ApplicationError(
            _("This assessment is published: its results are frozen."), code="frozen"
        )


def _exact(value: Fraction | None) -> tuple[Decimal | None, str]:
    if value is None:
        return None, ""
    return round_half_up(value, 2), f"{value.numerator}/{value.denominator}"


@transaction.atomic
def assessment_create(
    *,
    method: AssessmentMethod,
    agency: Agency,
    unit: Unit | None = None,
    year: int,
    acting_user: Any,
) -> Assessment:
    """A draft assessment of `agency` (or `unit`) for the calendar year `year`, with one
    stored result per indicator of the method (titles and weights as they stand now)."""
    _check_reviewer(acting_user, unit or agency)
    if unit is not None and unit.agency_id != agency.pk:
        raise ApplicationError(_("The unit is not one of the agency's."), field="unit")
    starts_on, ends_on = year_bounds(year)
    assessment = Assessment(
        method=method,
        agency=agency,
        unit=unit,
        period=str(year),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=person(acting_user),
    )
    mark_history(assessment, acting_user)
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError:
        raise ApplicationError(
            _("This agency or unit already has an assessment for this period and method."),
            code="duplicate",
        ) from None
    dimensions = list(method.dimensions.prefetch_related("indicators"))
    DimensionResult.objects.bulk_create(
        DimensionResult(
            assessment=assessment,
            dimension=dimension,
            code=dimension.code,
            position=dimension.position,
            title_id=dimension.title_id,
            title_en=dimension.title_en,
            weight=dimension.weight,
        )
        for dimension in dimensions
    )
    IndicatorResult.objects.bulk_create(
        IndicatorResult(
            assessment=assessment,
            indicator=indicator,
            dimension_code=dimension.code,
            position=dimension.position * 100 + indicator.position,
            title_id=indicator.title_id,
            title_en=indicator.title_en,
            kind=indicator.kind,
            weight=indicator.weight,
        )
        for dimension in dimensions
        for indicator in dimension.indicators.all()
    )
    return assessment


def assessments_create_for_period(
    *, method: AssessmentMethod, year: int, agencies: Iterable[Agency], acting_user: Any
) -> tuple[int, int]:
    """Draft assessments of these agencies for `year`: (created, already there)."""
    created = existing = 0
    for agency in agencies:
        if Assessment.objects.filter(
            method=method, agency=agency, unit__isnull=True, period=str(year)
        ).exists():
            existing += 1
            continue
        assessment_create(method=method, agency=agency, year=year, acting_user=acting_user)
        created += 1
    return created, existing


def _locked(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().select_related("method").get(pk=assessment.pk)


@transaction.atomic
def result_record(
    *,
    result: IndicatorResult,
    value: int | None = None,
    positive: int | None = None,
    asked: int | None = None,
    note: str = "",
    acting_user: Any,
) -> IndicatorResult:
    """The assessor's entry for a checklist (0-3) or count (positive of asked) indicator;
    an empty value clears it (no data). The assessment is scored again."""
    assessment = _locked(result.assessment)
    _check_reviewer(acting_user, assessment)
    _check_draft(assessment)
    result = IndicatorResult.objects.select_for_update().get(pk=result.pk)
    if result.kind == IndicatorKind.COMPUTED:
        raise ApplicationError(_("This indicator is computed from the registry's data."))
    exact: Fraction | None
    if result.kind == IndicatorKind.CHECKLIST:
        if value is not None and not 0 <= value <= 3:
            raise ApplicationError(_("A score is from 0 to 3."), field="value")
        exact = None if value is None else checklist_score(value)
        result.checklist_value = value
    else:
        if (positive is None) != (asked is None):
            raise ApplicationError(
                _("Give both how many were interviewed and how many answered well."),
                field="asked",
            )
        if positive is not None and asked is not None:
            if positive < 0 or asked < 0:
                raise ApplicationError(_("Counts cannot be negative."), field="positive")
            if positive > asked:
                raise ApplicationError(
                    _("More answered well than were interviewed."), field="positive"
                )
        exact = None if positive is None or asked is None else share_score(positive, asked)
        result.count_positive, result.count_asked = positive, asked
    result.score, result.exact = _exact(exact)
    result.note = note
    mark_history(result, acting_user)
    result.save()
    _rescore(assessment)
    return result


@transaction.atomic
def evidence_add(*, result: IndicatorResult, upload: UploadedFile, acting_user: Any) -> Evidence:
    """A photo or document behind an assessor's entry: PDF, PNG or JPEG (checked on the
    file's first bytes), at most 5 MB, at most EVIDENCE_MAX_PER_INDICATOR per indicator."""
    assessment = _locked(result.assessment)
    _check_reviewer(acting_user, assessment)
    _check_draft(assessment)
    try:
        check_attachment(upload)
    except ApplicationError as error:
        raise ApplicationError(error.message, code=error.code, field="file") from None
    if result.evidence.count() >= EVIDENCE_MAX_PER_INDICATOR:
        raise ApplicationError(_("Too many files for one indicator."), field="file")
    head = upload.read(8)
    upload.seek(0)
    file_type = next(kind for sig, kind in ATTACHMENT_SIGNATURES.items() if head.startswith(sig))
    evidence = Evidence(
        result=result,
        original_name=(upload.name or "evidence")[-200:],
        file_type=file_type,
        size=upload.size or 0,
        uploaded_by=person(acting_user),
    )
    evidence.file.save(f"evidence.{file_type}", upload, save=False)
    evidence.save()
    return evidence


@transaction.atomic
def assessment_compute(*, assessment: Assessment, acting_user: Any) -> Assessment:
    """Read every computed indicator from the registry's data now, store the figures behind
    each, and score the assessment again. A draft only: a published one is frozen."""
    assessment = _locked(assessment)
    _check_reviewer(acting_user, assessment)
    _check_draft(assessment)
    _compute(assessment)
    return assessment


def _compute(assessment: Assessment) -> None:
    subject = indicators.Subject(
        agency=assessment.agency,
        unit=assessment.unit,
        starts_on=assessment.starts_on,
        ends_on=assessment.ends_on,
    )
    results = list(
        assessment.indicator_results.filter(kind=IndicatorKind.COMPUTED).select_related("indicator")
    )
    for result in results:
        reading = indicators.compute(result.indicator.computation, subject)
        if reading is None:
            result.score, result.exact = None, ""
            result.figures = {"source": "none"}
        else:
            result.score, result.exact = _exact(reading.score)
            result.figures = reading.figures
    IndicatorResult.objects.bulk_update(results, ["score", "exact", "figures"])
    assessment.computed_at = timezone.now()
    _rescore(assessment)


def _exact_of(result: IndicatorResult) -> Fraction | None:
    return Fraction(result.exact) if result.exact else None


def _rescore(assessment: Assessment) -> None:
    """Score the assessment from its stored results (exact) with the method's weights as
    they stood when it was created (the results' own weights) and the method's bands."""
    method = AssessmentMethod.objects.prefetch_related("dimensions__indicators", "bands").get(
        pk=assessment.method_id
    )
    spec = method_spec(method)
    dimension_results = list(assessment.dimension_results.all())
    results = list(assessment.indicator_results.all())
    dimensions = [
        DimensionSpec(
            code=d.code,
            weight=d.weight,
            indicators=[
                IndicatorSpec(code=str(r.indicator_id), weight=r.weight)
                for r in results
                if r.dimension_code == d.code
            ],
        )
        for d in dimension_results
    ]
    values = {(r.dimension_code, str(r.indicator_id)): _exact_of(r) for r in results}
    outcome = score(
        dimensions=dimensions,
        values=values,
        bands=spec.bands,
        potential_bands=spec.potential_bands,
        missing_as_zero=spec.missing_as_zero,
    )
    for d, computed in zip(dimension_results, outcome.dimensions, strict=True):
        d.score = computed.shown
    DimensionResult.objects.bulk_update(dimension_results, ["score"])
    assessment.score = outcome.shown
    assessment.coverage = outcome.coverage_shown
    band, potential = outcome.band, outcome.potential
    assessment.grade = band.grade if band else ""
    assessment.zone = band.zone if band else ""
    assessment.label_id = band.label_id if band else ""
    assessment.label_en = band.label_en if band else ""
    assessment.potential_id = potential.label_id if potential else ""
    assessment.potential_en = potential.label_en if potential else ""
    assessment.save()


@transaction.atomic
def period_publish(*, method: AssessmentMethod, period: str, acting_user: Any) -> int:
    """Publish every draft assessment of `period` under `method`: the explicit ombudsman
    action after which their stored results are frozen. One never computed is computed
    first. Returns how many were published."""
    if not _reviewer(acting_user):
        raise PermissionDeniedError()
    drafts = list(
        Assessment.objects.select_for_update(of=("self",))
        .filter(method=method, period=period, state=AssessmentState.DRAFT)
        .select_related("agency", "unit")
        .order_by("pk")
    )
    if not drafts:
        raise ApplicationError(_("Nothing to publish in this period."), code="empty")
    now = timezone.now()
    for assessment in drafts:
        if assessment.computed_at is None:
            _compute(assessment)
        assessment.state = AssessmentState.PUBLISHED
        assessment.published_at = now
        assessment.published_by = person(acting_user)
        mark_history(assessment, acting_user)
        assessment.save()
    # The league's cached opinions change with this period (cleared again after the commit,
    # in case a page cached the old ones in between).
    cache.delete(OPINIONS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(OPINIONS_CACHE_KEY))
    return len(drafts)


def _reviewer(user: Any) -> bool:
    """Publishing a period is the Ombudsman's: a reviewer of every agency."""
    return grant_for(user, Action.DECIDE_BREACH).everywhere
