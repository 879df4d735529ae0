"""Staff pages of breaches (all under /staff/breaches/): the list, one breach and its
answers, the ombudsman's decision and review queue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.otp import otp_required_for_privileged
from agencies.policy import Action, can, get_permitted, has_any, scope
from core.errors import ApplicationError
from oversight import answers
from oversight.compensation import Compensation, breach_compensation
from oversight.forms import AnswerForm, CompensationForm, DecideForm
from oversight.models import Breach, BreachEscalation, BreachKind, BreachStatus, CitizenFollower
from oversight.selectors import breach_list_for_staff, breaches_with_facts, sweep_runs_recent


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
def breach_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    kind = kind if kind in BreachKind.values else ""
    status = status if status in BreachStatus.values else ""
    page = Paginator(
        breach_list_for_staff(user=request.user, kind=kind, status=status), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/breach_list.html",
        {
            "page": page,
            "kinds": BreachKind.choices,
            "statuses": BreachStatus.choices,
            "kind": kind,
            "status": status,
            "runs": sweep_runs_recent(10),
        },
    )


@otp_required_for_privileged
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(
        request, get_permitted(request.user, Action.VIEW_PRIVATE, breaches_with_facts(), pk=pk)
    )


@require_POST
@otp_required_for_privileged
def breach_answer(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_permitted(request.user, Action.ANSWER_BREACH, breaches_with_facts(), pk=pk)
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
    breach = get_permitted(request.user, Action.DECIDE_BREACH, breaches_with_facts(), pk=pk)
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
    breach = get_permitted(request.user, Action.ANSWER_BREACH, breaches_with_facts(), pk=pk)
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
