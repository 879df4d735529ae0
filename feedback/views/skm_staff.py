"""Staff pages of the satisfaction survey (mounted at /staff/skm/, namespace `skm_staff`):
the units' periods, and one unit's period where its staff answer the respondents'
suggestions and write the follow-up they plan (both printed in the published report).

Who may: the unit's agency staff who may answer breaches (`Action.ANSWER_BREACH`: editors,
approvers and admins of the agency, or of that unit); anyone else learns nothing (404),
except those who may see the unit's private data (the ombudsman: 403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.otp import otp_required_for_privileged
from agencies.models import Unit
from agencies.policy import Action, get_permitted, scope
from core.errors import ApplicationError
from feedback.forms import FollowUpForm, SuggestionAnswerForm
from feedback.models import SkmFollowUp, SurveyResponse
from feedback.periods import PERIOD_PATTERN
from feedback.services import skm_follow_up_save, suggestion_answer

PAGE_SIZE = 50


def _unit(request: HttpRequest, unit_pk: int) -> Unit:
    return get_permitted(
        request.user, Action.ANSWER_BREACH, Unit.objects.select_related("agency"), pk=unit_pk
    )


def _period_url(unit_pk: int, period: str) -> str:
    return reverse("skm_staff:period", kwargs={"unit_pk": unit_pk, "period": period})


@require_safe
@otp_required_for_privileged
def skm_staff_index(request: HttpRequest) -> HttpResponse:
    """The periods with responses of the units the viewer answers for, newest first."""
    units = scope(
        request.user,
        Unit.objects.all(),
        Action.ANSWER_BREACH,
        agency_field="agency",
        unit_field="pk",
    )
    rows = (
        SurveyResponse.objects.filter(unit__in=units)
        .values("unit_id", "unit__name", "unit__agency__name", "period")
        .annotate(
            respondents=Count("id"),
            suggestions=Count("id", filter=~Q(suggestion="")),
            answered=Count(
                "id", filter=~Q(suggestion="") & Q(suggestion_answered_at__isnull=False)
            ),
        )
        .order_by("-period", "unit__agency__name", "unit__name")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/skm_staff_index.html", {"page": page})


def _period_page(
    request: HttpRequest,
    unit: Unit,
    period: str,
    *,
    answer_forms: dict[int, SuggestionAnswerForm] | None = None,
    follow_up_form: FollowUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    unanswered = request.GET.get("unanswered") == "1"
    suggestions = (
        SurveyResponse.objects.filter(unit=unit, period=period)
        .exclude(suggestion="")
        .only("pk", "suggestion", "suggestion_answer", "suggestion_answered_at", "submitted_at")
        .order_by("submitted_at", "pk")
    )
    if unanswered:
        suggestions = suggestions.filter(suggestion_answered_at__isnull=True)
    page = Paginator(suggestions, PAGE_SIZE).get_page(request.GET.get("page"))
    answer_forms = answer_forms or {}
    rows = [
        (
            response,
            answer_forms.get(response.pk)
            or SuggestionAnswerForm(
                prefix=f"s{response.pk}", initial={"answer": response.suggestion_answer}
            ),
        )
        for response in page.object_list
    ]
    # Errors of an answer whose suggestion is not on this page (another page, a filter).
    shown = {response.pk for response, _form in rows}
    step_errors = [
        error
        for pk, form in answer_forms.items()
        if pk not in shown
        for errors in form.errors.values()
        for error in errors
    ]
    follow_up = SkmFollowUp.objects.filter(unit=unit, period=period).first()
    counts = SurveyResponse.objects.filter(unit=unit, period=period).aggregate(
        respondents=Count("id"),
        suggestions=Count("id", filter=~Q(suggestion="")),
        answered=Count("id", filter=~Q(suggestion="") & Q(suggestion_answered_at__isnull=False)),
    )
    share = (
        round(100 * counts["answered"] / counts["suggestions"]) if counts["suggestions"] else None
    )
    return render(
        request,
        "feedback/skm_staff_period.html",
        {
            "unit": unit,
            "agency": unit.agency,
            "period": period,
            "page": page,
            "rows": rows,
            "step_errors": step_errors,
            "unanswered": unanswered,
            "counts": counts,
            "share": share,
            "follow_up": follow_up,
            "follow_up_form": follow_up_form
            or FollowUpForm(initial={"plan": follow_up.plan if follow_up else ""}),
        },
        status=status,
    )


def _check_period(period: str) -> None:
    if not PERIOD_PATTERN.match(period):
        raise Http404


@require_safe
@otp_required_for_privileged
def skm_staff_period(request: HttpRequest, unit_pk: int, period: str) -> HttpResponse:
    _check_period(period)
    return _period_page(request, _unit(request, unit_pk), period)


@require_POST
@otp_required_for_privileged
def skm_staff_follow_up(request: HttpRequest, unit_pk: int, period: str) -> HttpResponse:
    _check_period(period)
    unit = _unit(request, unit_pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            skm_follow_up_save(
                unit=unit, period=period, plan=form.cleaned_data["plan"], actor=request.user
            )
        except ApplicationError as exc:
            form.add_error("plan" if exc.field == "plan" else None, exc.message)
        else:
            messages.success(request, _("The follow-up plan is saved: the report shows it."))
            return HttpResponseRedirect(_period_url(unit.pk, period))
    return _period_page(request, unit, period, follow_up_form=form, status=400)


@require_POST
@otp_required_for_privileged
def skm_staff_answer(request: HttpRequest, pk: int) -> HttpResponse:
    response: Any = get_permitted(
        request.user,
        Action.ANSWER_BREACH,
        SurveyResponse.objects.select_related("unit__agency"),
        pk=pk,
    )
    form = SuggestionAnswerForm(request.POST, prefix=f"s{response.pk}")
    if form.is_valid():
        try:
            suggestion_answer(
                response=response, actor=request.user, answer=form.cleaned_data["answer"]
            )
        except ApplicationError as exc:
            form.add_error("answer" if exc.field == "answer" else None, exc.message)
        else:
            messages.success(request, _("Your answer is saved: the report shows it."))
            return HttpResponseRedirect(_period_url(response.unit_id, response.period))
    return _period_page(
        request, response.unit, response.period, answer_forms={response.pk: form}, status=400
    )
