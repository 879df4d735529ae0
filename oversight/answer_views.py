"""Staff pages to answer a breach, the ombudsman queue, and the one-click acknowledge link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.policy import Action, can, has_any, scope
from core.errors import ApplicationError
from core.forms import Form
from oversight import answers
from oversight.compensation import Compensation, breach_compensation
from oversight.models import (
    Breach,
    BreachEscalation,
    BreachStatus,
    CitizenFollower,
    Maladministration,
)
from oversight.notices import ack_link_max_age_seconds, ack_token_read

ANSWER_ACTIONS = [
    ("acknowledge", gettext_lazy("Acknowledge")),
    ("explain", gettext_lazy("Explain")),
    ("remedy", gettext_lazy("Record the remedy")),
    ("dispute", gettext_lazy("Dispute")),
]


class AnswerForm(Form):
    action = forms.ChoiceField(label=gettext_lazy("Answer"), choices=ANSWER_ACTIONS)
    text = forms.CharField(
        label=gettext_lazy("Text"), required=False, max_length=5000, widget=forms.Textarea
    )
    attachment = forms.FileField(
        label=gettext_lazy("Attachment (PDF, PNG or JPEG, at most 5 MB)"), required=False
    )


class DecideForm(Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            (BreachStatus.CONFIRMED.value, gettext_lazy("Confirm")),
            (BreachStatus.DISMISSED.value, gettext_lazy("Dismiss")),
        ],
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Maladministration category"),
        choices=[("", "—"), *Maladministration.choices],
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=5000, widget=forms.Textarea
    )


class CompensationForm(Form):
    amount = forms.IntegerField(label=gettext_lazy("Amount paid (Rp)"))
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _breaches(user: Any) -> QuerySet[Breach]:
    return scope(user, Breach.objects.all(), Action.VIEW_PRIVATE).select_related(
        "agency", "unit", "service", "delivery"
    )


def _detail(
    request: HttpRequest,
    breach: Breach,
    *,
    answer_form: AnswerForm | None = None,
    decide_form: DecideForm | None = None,
    compensation_form: CompensationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    escalation = BreachEscalation.objects.filter(breach=breach).first()
    compensation: Compensation | None = None
    try:
        compensation = breach_compensation(breach)
    except ApplicationError:  # the delivery's calendar does not cover the dates yet
        compensation = None
    # Staff see how many citizens follow the request (confirmed addresses: those who will be
    # told of the answer), never who (the complainant's identity).
    followers = (
        CitizenFollower.objects.filter(
            delivery_id=breach.delivery_id, confirmed_at__isnull=False
        ).count()
        if breach.delivery_id is not None
        else 0
    )
    return render(
        request,
        "oversight/answer_detail.html",
        {
            "breach": breach,
            "escalation": escalation,
            "events": breach.events.select_related("actor"),
            "can_answer": can(request.user, Action.ANSWER_BREACH, breach)
            and breach.status not in answers.CLOSED,
            "can_decide": can(request.user, Action.DECIDE_BREACH, breach)
            and breach.status not in answers.CLOSED,
            "answer_form": answer_form or AnswerForm(),
            "decide_form": decide_form
            or DecideForm(initial={"category": breach.suggested_category}),
            "compensation": compensation,
            "can_compensate": compensation is not None
            and compensation.owed > 0
            and can(request.user, Action.ANSWER_BREACH, breach)
            and breach.status not in answers.NOT_COMPENSABLE,
            "compensation_form": compensation_form
            or CompensationForm(
                initial={
                    "amount": breach.compensation_paid_amount
                    or (compensation.owed if compensation else None),
                    "paid_on": breach.compensation_paid_at,
                }
            ),
            "followers": followers,
        },
        status=status,
    )


@otp_required_for_privileged
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(_breaches(request.user), pk=pk))


@require_POST
@otp_required_for_privileged
def breach_answer(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_object_or_404(_breaches(request.user), pk=pk)
    if not can(request.user, Action.ANSWER_BREACH, breach):
        raise PermissionDenied
    form = AnswerForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, breach, answer_form=form, status=400)
    action, text = form.cleaned_data["action"], form.cleaned_data["text"]
    try:
        if action == "acknowledge":
            answers.breach_acknowledge(breach=breach, acting_user=request.user)
        elif action == "explain":
            answers.breach_explain(
                breach=breach,
                acting_user=request.user,
                text=text,
                attachment=form.cleaned_data["attachment"],
            )
        elif action == "remedy":
            answers.breach_remedy(breach=breach, acting_user=request.user, text=text)
        else:
            answers.breach_dispute(breach=breach, acting_user=request.user, text=text)
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _detail(request, breach, answer_form=form, status=400)
    messages.success(request, _("Your answer is recorded."))
    return redirect("breach_answers:detail", pk=breach.pk)


@require_POST
@otp_required_for_privileged
def breach_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_object_or_404(_breaches(request.user), pk=pk)
    if not can(request.user, Action.DECIDE_BREACH, breach):
        raise PermissionDenied
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _detail(request, breach, decide_form=form, status=400)
    try:
        answers.breach_decide(
            breach=breach,
            acting_user=request.user,
            decision=form.cleaned_data["decision"],
            category=form.cleaned_data["category"],
            text=form.cleaned_data["text"],
        )
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _detail(request, breach, decide_form=form, status=400)
    messages.success(request, _("The decision is recorded."))
    return redirect("breach_answers:detail", pk=breach.pk)


@require_POST
@otp_required_for_privileged
def breach_compensation_view(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_object_or_404(_breaches(request.user), pk=pk)
    if not can(request.user, Action.ANSWER_BREACH, breach):
        raise PermissionDenied
    form = CompensationForm(request.POST)
    if not form.is_valid():
        return _detail(request, breach, compensation_form=form, status=400)
    try:
        answers.breach_record_compensation(
            breach=breach,
            acting_user=request.user,
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["paid_on"],
        )
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _detail(request, breach, compensation_form=form, status=400)
    messages.success(request, _("The payment of the compensation is recorded."))
    return redirect("breach_answers:detail", pk=breach.pk)


@otp_required_for_privileged
def ombudsman_queue(request: HttpRequest) -> HttpResponse:
    """Breaches escalated past the whole ladder, or disputed by their unit, awaiting a decision."""
    if not has_any(request.user, Action.DECIDE_BREACH):
        raise PermissionDenied
    queue = (
        scope(request.user, Breach.objects.all(), Action.DECIDE_BREACH)
        .filter(Q(escalation__level__gte=3) | Q(escalation__disputed_at__isnull=False))
        .exclude(status__in=answers.CLOSED)
        .select_related("agency", "unit", "service", "escalation")
        .order_by("occurred_at")
    )
    page = Paginator(queue, 50).get_page(request.GET.get("page"))
    return render(request, "oversight/answer_queue.html", {"page": page})


@require_http_methods(["GET", "POST"])
def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click link from the email: GET shows a confirm button, POST acknowledges."""
    try:
        data = ack_token_read(token, max_age_seconds=ack_link_max_age_seconds())
    except signing.SignatureExpired:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This link has expired. Sign in to the staff area to acknowledge.")},
            status=410,
        )
    except signing.BadSignature:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This link is not valid. Check that it was copied completely.")},
            status=400,
        )
    breach = (
        Breach.objects.filter(pk=data["b"], notifications__pk=int(data.get("n") or 0))
        .select_related("agency", "unit", "service", "delivery")
        .first()
    )
    if breach is None:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This breach no longer exists.")},
            status=404,
        )
    done = BreachEscalation.objects.filter(breach=breach, acknowledged_at__isnull=False).exists()
    error = ""
    if request.method == "POST" and not done:
        try:
            answers.breach_acknowledge(breach=breach, by_email=str(data.get("e") or ""))
            done = True
        except ApplicationError as exc:
            error = exc.message
        breach.refresh_from_db()
    return render(
        request,
        "oversight/answer_ack.html",
        {"breach": breach, "done": done, "error": error, "email": data.get("e", "")},
        status=400 if error else 200,
    )
