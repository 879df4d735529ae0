"""Assessments: created per indicator, computed from the registry's data, the checklist,
the policy, and publishing a period, after which the stored scores are frozen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from charter.models import Charter
from charter.services import charter_publish
from compliance import indicators, services
from compliance.models import (
    Assessment,
    AssessmentMethod,
    AssessmentState,
    IndicatorKind,
    IndicatorResult,
)
from core.errors import ApplicationError, PermissionDeniedError
from tests.factories import CharterFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _result(assessment, code):
    return assessment.indicator_results.get(indicator__code=code)


def _fill_checklist(assessment, user, value=3):
    for result in assessment.indicator_results.exclude(kind=IndicatorKind.COMPUTED):
        if result.kind == IndicatorKind.CHECKLIST:
            services.result_record(result=result, value=value, acting_user=user)
        else:
            services.result_record(result=result, positive=1, asked=2, acting_user=user)


def test_create_makes_one_result_per_indicator(assessment_a, method_2022):
    expected = sum(d.indicators.count() for d in method_2022.dimensions.all())
    assert assessment_a.indicator_results.count() == expected == 16
    assert assessment_a.dimension_results.count() == 4
    assert assessment_a.period == str(dt.date.today().year)


def test_a_second_assessment_of_the_same_period_is_refused(assessment_a, ombudsman, agency_a):
    with pytest.raises(ApplicationError):
        services.assessment_create(
            method=assessment_a.method,
            agency=agency_a,
            year=int(assessment_a.period),
            acting_user=ombudsman,
        )


@pytest.mark.parametrize("who", ["editor_a", "admin_a", "editor_b", "anonymous"])
def test_only_reviewers_create_enter_compute_publish(cast, who, agency_a, method_2022, year):
    user = cast[who]
    with pytest.raises(PermissionDeniedError):
        services.assessment_create(method=method_2022, agency=agency_a, year=year, acting_user=user)
    assessment = services.assessment_create(
        method=method_2022, agency=agency_a, year=year, acting_user=cast["ombudsman"]
    )
    result = _result(assessment, "internal_supervision")
    with pytest.raises(PermissionDeniedError):
        services.result_record(result=result, value=2, acting_user=user)
    with pytest.raises(PermissionDeniedError):
        services.assessment_compute(assessment=assessment, acting_user=user)
    with pytest.raises(PermissionDeniedError):
        services.period_publish(method=method_2022, period=assessment.period, acting_user=user)


def test_computed_indicators_read_the_registry_with_their_figures(assessment_a, ombudsman):
    services.assessment_compute(assessment=assessment_a, acting_user=ombudsman)
    complete = _result(assessment_a, "standards_complete")
    assert complete.figures["published"] == 1
    assert complete.score == Decimal("100.00")  # the fixture's standard has all 14
    charter = _result(assessment_a, "charter_in_force")
    assert charter.figures == {"units": 1, "with_charter": 0, "as_of": charter.figures["as_of"]}
    assert charter.score == Decimal("0.00")
    # No deliveries: the on-time rate has no data, shown as such.
    on_time = _result(assessment_a, "on_time_rate")
    assert on_time.score is None
    assert on_time.figures["completed"] == 0
    # No complaint answer fell due in the period: "no data yet", with the figures saying so.
    handling = _result(assessment_a, "complaint_handling_time")
    assert handling.figures["due"] == 0
    assert handling.score is None


def test_the_total_is_the_weighted_mean_of_what_has_data(assessment_a, ombudsman):
    services.assessment_compute(assessment=assessment_a, acting_user=ombudsman)
    _fill_checklist(assessment_a, ombudsman, value=3)
    assessment_a.refresh_from_db()
    # input: 3 checklists at 100 and a count 1 of 2 (50): (300 + 50) / 4 = 87.5
    # process: complete 100, current 100, charter 0, three checklists 100: 500/6 = 83.333..
    # output: interviews 1 of 2 (50); on time, overcharge and SKM: no data -> 50
    # complaints: interviews 50; handling time no data -> 50
    # (21.85*87.5 + 32.37*500/6 + 24.24*50 + 21.54*50) / 100
    # = (1911.875 + 2697.5 + 1212 + 1077) / 100 = 68.98375 -> 68.98
    total = (
        Fraction("21.85") * Fraction("87.5")
        + Fraction("32.37") * Fraction(500, 6)
        + Fraction("24.24") * 50
        + Fraction("21.54") * 50
    ) / 100
    assert total == Fraction("68.98375")
    assert assessment_a.score == Decimal("68.98")
    assert (assessment_a.grade, assessment_a.zone) == ("C", "yellow")
    # Coverage: output has 1 of 4 indicators with data, complaints 1 of 2.
    # 100 - 24.24*3/4 - 21.54/2 = 100 - 18.18 - 10.77 = 71.05
    assert assessment_a.coverage == Decimal("71.05")


def test_entries_are_checked(assessment_a, ombudsman):
    with pytest.raises(ApplicationError):
        services.result_record(
            result=_result(assessment_a, "internal_supervision"), value=4, acting_user=ombudsman
        )
    with pytest.raises(ApplicationError):
        services.result_record(
            result=_result(assessment_a, "officer_interviews"),
            positive=5,
            asked=4,
            acting_user=ombudsman,
        )
    with pytest.raises(ApplicationError):
        services.result_record(
            result=_result(assessment_a, "standards_complete"), value=3, acting_user=ombudsman
        )


def test_evidence_type_is_read_from_the_content(assessment_a, ombudsman):
    result = _result(assessment_a, "standard_displayed")
    evidence = services.evidence_add(
        result=result,
        upload=SimpleUploadedFile("poster.jpg", PNG, content_type="image/jpeg"),
        acting_user=ombudsman,
    )
    assert evidence.file_type == "png"
    with pytest.raises(ApplicationError) as refused:
        services.evidence_add(
            result=result,
            upload=SimpleUploadedFile("x.pdf", b"<html>not a pdf", content_type="application/pdf"),
            acting_user=ombudsman,
        )
    assert refused.value.field == "file"


def test_published_scores_are_frozen(
    assessment_a, ombudsman, agency_a, unit_a, published_a, approver_a
):
    services.assessment_compute(assessment=assessment_a, acting_user=ombudsman)
    _fill_checklist(assessment_a, ombudsman)
    published = services.period_publish(
        method=assessment_a.method, period=assessment_a.period, acting_user=ombudsman
    )
    assert published == 1
    assessment_a.refresh_from_db()
    assert assessment_a.state == AssessmentState.PUBLISHED
    before = (
        assessment_a.score,
        assessment_a.grade,
        list(assessment_a.indicator_results.values_list("score", "figures")),
        list(assessment_a.dimension_results.values_list("score", flat=True)),
    )
    # Later data: the unit publishes its charter. Live data now reads differently...
    charter = cast(
        Charter,
        CharterFactory(unit=unit_a, services=[published_a.service], acting_user=approver_a),
    )
    charter_publish(charter=charter, acting_user=approver_a)
    subject = indicators.Subject(
        agency=agency_a,
        unit=None,
        starts_on=assessment_a.starts_on,
        ends_on=assessment_a.ends_on,
    )
    live = indicators.compute("charter_in_force", subject)
    assert live is not None and live.score == 100
    # ...yet nothing of the published assessment moves, and no write reaches it.
    with pytest.raises(ApplicationError):
        services.assessment_compute(assessment=assessment_a, acting_user=ombudsman)
    with pytest.raises(ApplicationError):
        services.result_record(
            result=_result(assessment_a, "internal_supervision"), value=0, acting_user=ombudsman
        )
    with pytest.raises(ApplicationError):
        services.period_publish(
            method=assessment_a.method, period=assessment_a.period, acting_user=ombudsman
        )
    # A method edited later does not move it either.
    AssessmentMethod.objects.filter(pk=assessment_a.method_id).update(missing_policy="zero")
    assessment_a.method.bands.filter(grade="C").update(lower=Decimal("10.00"))
    fresh = Assessment.objects.get(pk=assessment_a.pk)
    after = (
        fresh.score,
        fresh.grade,
        list(fresh.indicator_results.values_list("score", "figures")),
        list(fresh.dimension_results.values_list("score", flat=True)),
    )
    assert after == before
    assert _result(fresh, "charter_in_force").score == Decimal("0.00")


def test_publishing_computes_a_draft_never_computed(assessment_a, ombudsman):
    services.period_publish(
        method=assessment_a.method, period=assessment_a.period, acting_user=ombudsman
    )
    assessment_a.refresh_from_db()
    assert assessment_a.computed_at is not None
    assert IndicatorResult.objects.filter(
        assessment=assessment_a, indicator__code="standards_complete", score=Decimal("100.00")
    ).exists()


def test_an_unregistered_computation_reads_no_data(agency_a):
    subject = indicators.Subject(
        agency=agency_a, unit=None, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    assert indicators.compute("no_such_computation", subject) is None
    assert indicators.compute("standards_complete", subject) is not None
