"""The reviewers' compliance pages, under /staff/compliance/: create a period's assessments,
fill the checklist on a visit, compute the registry's indicators, review, publish a period."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.otp import otp_required_for_privileged
from agencies.models import Agency
from agencies.policy import Action, can, get_permitted, grant_for, refuse
from compliance import services
from compliance.forms import CreateForm, EntryForm, PublishForm
from compliance.models import (
    Assessment,
    AssessmentState,
    Evidence,
    IndicatorKind,
    IndicatorResult,
)
from core.errors import ApplicationError

PAGE_SIZE = 50


def _reviewer_only(request: HttpRequest) -> None:
    if not grant_for(request.user, Action.DECIDE_BREACH).everywhere:
        raise PermissionDenied


def _index(
    request: HttpRequest,
    *,
    create_form: CreateForm | None = None,
    publish_form: PublishForm | None = None,
    status: int = 200,
) -> HttpResponse:
    periods = (
        Assessment.objects.values("method__code", "method__title_id", "method_id", "period")
        .annotate(
            drafts=Count("pk", filter=Q(state=AssessmentState.DRAFT)),
            published=Count("pk", filter=Q(state=AssessmentState.PUBLISHED)),
        )
        .order_by("-period", "method__code")
    )
    assessments = Assessment.objects.select_related("agency", "unit", "method").order_by(
        "-period", "agency__name", "pk"
    )
    period = request.GET.get("period", "")
    if period.isdigit():
        assessments = assessments.filter(period=period)
    page = Paginator(assessments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "compliance/staff/index.html",
        {
            "periods": list(periods),
            "page": page,
            "create_form": create_form or CreateForm(),
            "publish_form": publish_form or PublishForm(),
        },
        status=status,
    )


@otp_required_for_privileged
def index(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    return _index(request)


@require_POST
@otp_required_for_privileged
def create(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    form = CreateForm(request.POST)
    if not form.is_valid():
        return _index(request, create_form=form, status=400)
    agency = form.cleaned_data["agency"]
    agencies = [agency] if agency else list(Agency.objects.order_by("name"))
    try:
        created, existing = services.assessments_create_for_period(
            method=form.cleaned_data["method"],
            year=form.cleaned_data["year"],
            agencies=agencies,
            acting_user=request.user,
        )
    except ApplicationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _index(request, create_form=form, status=400)
    messages.success(
        request,
        _("%(created)d assessments created, %(existing)d already there.")
        % {"created": created, "existing": existing},
    )
    return redirect("compliance:index")


@require_POST
@otp_required_for_privileged
def publish(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _index(request, publish_form=form, status=400)
    try:
        count = services.period_publish(
            method=form.cleaned_data["method"],
            period=form.cleaned_data["period"],
            acting_user=request.user,
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _index(request, publish_form=form, status=400)
    messages.success(request, _("%(count)d assessments published.") % {"count": count})
    return redirect("compliance:index")


def _assessment(request: HttpRequest, pk: int) -> Assessment:
    return get_permitted(
        request.user,
        Action.DECIDE_BREACH,
        Assessment.objects.select_related("agency", "unit", "method"),
        pk=pk,
    )


def _detail(
    request: HttpRequest,
    assessment: Assessment,
    *,
    bad_form: tuple[int, EntryForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    results = list(assessment.indicator_results.prefetch_related("evidence"))
    rows = []
    for result in results:
        form = None
        if result.kind != IndicatorKind.COMPUTED and not assessment.is_published:
            if bad_form is not None and bad_form[0] == result.pk:
                form = bad_form[1]
            else:
                form = EntryForm(
                    kind=result.kind,
                    prefix=f"r{result.pk}",
                    initial={
                        "value": result.checklist_value,
                        "positive": result.count_positive,
                        "asked": result.count_asked,
                        "note": result.note,
                    },
                )
        rows.append((result, form))
    dimensions = [
        (dimension, [row for row in rows if row[0].dimension_code == dimension.code])
        for dimension in assessment.dimension_results.all()
    ]
    return render(
        request,
        "compliance/staff/detail.html",
        {"assessment": assessment, "dimensions": dimensions},
        status=status,
    )


@otp_required_for_privileged
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _assessment(request, pk))


@require_POST
@otp_required_for_privileged
def compute(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    try:
        services.assessment_compute(assessment=assessment, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("compliance:detail", pk=pk)
    messages.success(request, _("The indicators were computed from the registry's data."))
    return redirect("compliance:detail", pk=pk)


@require_POST
@otp_required_for_privileged
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    result = get_object_or_404(IndicatorResult.objects.select_related("assessment"), pk=pk)
    assessment = _assessment(request, result.assessment_id)
    if result.kind == IndicatorKind.COMPUTED:
        return _detail(request, assessment, status=400)
    form = EntryForm(request.POST, request.FILES, kind=result.kind, prefix=f"r{result.pk}")
    if not form.is_valid():
        return _detail(request, assessment, bad_form=(result.pk, form), status=400)
    data: dict[str, Any] = form.cleaned_data
    try:
        services.result_record(
            result=result,
            value=data.get("value"),
            positive=data.get("positive"),
            asked=data.get("asked"),
            note=data["note"],
            acting_user=request.user,
        )
        if data.get("file"):
            services.evidence_add(result=result, upload=data["file"], acting_user=request.user)
    except ApplicationError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _detail(request, assessment, bad_form=(result.pk, form), status=400)
    messages.success(request, _("Saved."))
    return redirect(f"{assessment_url(assessment)}#result-{result.pk}")


def assessment_url(assessment: Assessment) -> str:
    from django.urls import reverse

    return reverse("compliance:detail", kwargs={"pk": assessment.pk})


@otp_required_for_privileged
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer's evidence: for reviewers, and for the agency's own staff once published."""
    evidence = get_object_or_404(Evidence.objects.select_related("result__assessment"), pk=pk)
    assessment = evidence.result.assessment
    allowed = can(request.user, Action.DECIDE_BREACH, assessment) or (
        assessment.is_published and can(request.user, Action.VIEW_PRIVATE, assessment)
    )
    if not allowed:
        refuse(request.user, assessment)
    content_type = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}.get(
        evidence.file_type, "application/octet-stream"
    )
    # At most 5 MB (compliance.services.evidence_add): read whole.
    with evidence.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="evidence-{evidence.pk}.{evidence.file_type}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
