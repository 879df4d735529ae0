"""Staff pages of breaches (all under /staff/breaches/): the list, one breach and its
answers, the ombudsman's decision and review queue."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.otp import otp_required_for_privileged
from agencies.policy import Action, can, get_permitted
from core.errors import ApplicationError
from core.exporting import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_chunks, xlsx_file
from oversight import answers, desk
from oversight.breach_facts import breach_facts
from oversight.breach_list import (
    LIST_PAGE_SIZE,
    breach_list_scoped,
    breach_list_sorted,
    sees_everywhere,
    services_for_list,
    units_for_list,
)
from oversight.filters import BreachListFilter, ReviewDeskFilter
from oversight.forms import (
    AnswerForm,
    CompensationForm,
    DecideForm,
    DeskBulkForm,
    SavedFilterForm,
)
from oversight.models import Breach, BreachKind, BreachStatus, CitizenFollower
from oversight.selectors import (
    DESK_COUNT_CAP,
    DESK_EXPORT_COLUMNS,
    DeskPage,
    breaches_with_facts,
    desk_counts,
    desk_export_rows,
    desk_page,
    desk_reason,
    review_desk,
    sweep_runs_recent,
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
    facts = breach_facts(breach)
    escalation, compensation = facts.escalation, facts.compensation
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
            "facts": facts,
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
            "can_pull_in": breach.on_desk_at is None
            and breach.status not in answers.CLOSED
            and desk.is_reviewer(request.user),
        },
        status=status,
    )


@otp_required_for_privileged
def breach_list(request: HttpRequest) -> HttpResponse:
    """The breaches the user may see, filtered, sorted and paged by the URL's query string,
    with the count of each state (the filters but the status applied)."""
    everywhere = sees_everywhere(request.user)
    filterset = BreachListFilter(
        request.GET,
        queryset=breach_list_scoped(user=request.user),
        request=request,
        units=None if everywhere else units_for_list(user=request.user),
        services=None if everywhere else services_for_list(user=request.user),
    )
    page = None
    counts: dict[str, int] = {}
    status = 200
    if filterset.is_valid():
        page = Paginator(
            breach_list_sorted(filterset.qs, filterset.sort_key), LIST_PAGE_SIZE
        ).get_page(request.GET.get("page"))
        counts = desk_counts(queryset=filterset.counted())
    else:
        status = 400
    here = QueryDict(mutable=True)
    for name in filterset.filters:
        value = request.GET.get(name, "")[:200]
        if value:
            here[name] = value
    counts_query = here.copy()
    counts_query.pop("status", None)
    return render(
        request,
        "oversight/breach_list.html",
        {
            "filter": filterset,
            "page": page,
            "counts": [
                (value, label, _count(counts.get(value, 0)))
                for value, label in BreachStatus.choices
            ],
            "counts_query": counts_query.urlencode(),
            "query": here.urlencode(),
            "runs": sweep_runs_recent(10),
        },
        status=status,
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


# --- The ombudsman's review desk ------------------------------------------------------------


def _reviewer_only(request: HttpRequest) -> None:
    if not desk.is_reviewer(request.user):
        raise PermissionDenied


def _queue_url(query: str = "") -> str:
    query = desk.filters_query(query)
    return reverse("breach_answers:queue") + (f"?{query}" if query else "")


def _queue_page(
    request: HttpRequest,
    query: QueryDict,
    *,
    bulk_form: DeskBulkForm | None = None,
    saved_form: SavedFilterForm | None = None,
    status: int = 200,
) -> HttpResponse:
    reviewers = list(desk.reviewers())
    filterset = ReviewDeskFilter(
        query, queryset=review_desk(user=request.user), request=request, reviewers=reviewers
    )
    page: DeskPage | None = None
    counts: dict[str, int] = {}
    if filterset.is_valid():
        page = desk_page(
            queryset=filterset.qs, sort=filterset.order_key, cursor=filterset.after_cursor
        )
        counts = desk_counts(queryset=filterset.counted())
    else:
        status = 400
    here = desk.filters_query(query.urlencode())
    counts_query = QueryDict(here, mutable=True)
    counts_query.pop("status", None)
    return render(
        request,
        "oversight/answer_queue.html",
        {
            "filter": filterset,
            "page": page,
            "rows": _desk_rows(page.rows) if page else [],
            "counts": [
                (value, label, _count(counts.get(value, 0)))
                for value, label in BreachStatus.choices
            ],
            "detail_base": reverse("breach_answers:detail", kwargs={"pk": 0})[: -len("0/")],
            "counts_query": counts_query.urlencode(),
            "query": here,
            "next_query": _with(here, after=page.next_cursor) if page and page.next_cursor else "",
            "first_query": here if query.get("after") else None,
            "saved": desk.saved_filters_of(request.user),
            "bulk_form": bulk_form or DeskBulkForm(reviewers=reviewers, initial={"q": here}),
            "saved_form": saved_form or SavedFilterForm(initial={"q": here}),
        },
        status=status,
    )


def _desk_rows(rows: list[Breach]) -> list[dict[str, Any]]:
    """What each row of the desk shows, as plain values: a page renders fifty rows, and
    plain dictionaries are what the template language reads fastest (a model's
    get_FOO_display rebuilds its choices on every call; a missing ladder row raises)."""
    kinds = {value: str(label) for value, label in BreachKind.choices}
    statuses = {value: str(label) for value, label in BreachStatus.choices}
    reasons = {
        "disputed": _("Disputed by the unit"),
        "escalated": _("Not acknowledged"),
        "pulled": _("Pulled in by a reviewer"),
    }
    shown = []
    for breach in rows:
        escalation = getattr(breach, "escalation", None)  # None: pulled in, no ladder row
        shown.append(
            {
                "pk": breach.pk,
                "kind": kinds.get(breach.kind, breach.kind),
                "unit_id": breach.unit_id,
                "unit": breach.unit.name,
                "agency": breach.agency.short_name or breach.agency.name,
                "service_id": breach.service_id,
                "service": breach.service.name if breach.service is not None else "",
                "occurred": dateformat.format(timezone.localtime(breach.occurred_at), "j M Y"),
                "reason": reasons[
                    desk_reason(
                        escalation.level if escalation else None,
                        escalation.disputed_at if escalation else None,
                    )
                ],
                "status": statuses.get(breach.status, breach.status),
                "assignee": breach.assignee.username if breach.assignee is not None else "",
            }
        )
    return shown


def _count(count: int) -> str:
    """A state's count as shown: exact up to the cap, then "1000+"."""
    return f"{DESK_COUNT_CAP}+" if count > DESK_COUNT_CAP else str(count)


def _with(query: str, **params: str) -> str:
    data = QueryDict(query, mutable=True)
    for name, value in params.items():
        data[name] = value
    return data.urlencode()


@otp_required_for_privileged
def ombudsman_queue(request: HttpRequest) -> HttpResponse:
    """The review desk: everything awaiting an ombudsman's eyes, across all agencies,
    filtered by the URL's query string."""
    _reviewer_only(request)
    return _queue_page(request, request.GET)


def _queue_export(request: HttpRequest, extension: str) -> HttpResponseBase:
    """The desk's current filtered view (every page, in its order), streamed: CSV straight
    to the response, XLSX written row by row to a temporary file and sent from it. Bad
    filters get the page with its errors (400)."""
    _reviewer_only(request)
    filterset = ReviewDeskFilter(
        request.GET,
        queryset=review_desk(user=request.user),
        request=request,
        reviewers=list(desk.reviewers()),
    )
    if not filterset.is_valid():
        return _queue_page(request, request.GET)
    rows = desk_export_rows(queryset=filterset.qs, sort=filterset.order_key)
    filename = f"review-desk-{timezone.localdate().isoformat()}.{extension}"
    response: HttpResponseBase
    if extension == "csv":
        response = StreamingHttpResponse(
            csv_chunks(DESK_EXPORT_COLUMNS, rows), content_type=CSV_MEDIA_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(
            xlsx_file(DESK_EXPORT_COLUMNS, rows, title="review-desk"),
            as_attachment=True,
            filename=filename,
            content_type=XLSX_MEDIA_TYPE,
        )
    response["Cache-Control"] = "private, no-store"
    return response


# A streamed answer is no HttpResponse, which the guard's signature names: hence the casts.
@require_safe
@otp_required_for_privileged
def queue_export_csv(request: HttpRequest) -> HttpResponse:
    return cast(HttpResponse, _queue_export(request, "csv"))


@require_safe
@otp_required_for_privileged
def queue_export_xlsx(request: HttpRequest) -> HttpResponse:
    return cast(HttpResponse, _queue_export(request, "xlsx"))


@require_POST
@otp_required_for_privileged
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """An action on the selected rows of the desk; the desk's filtered view comes back."""
    _reviewer_only(request)
    reviewers = list(desk.reviewers())
    form = DeskBulkForm(request.POST, reviewers=reviewers)
    query = QueryDict(desk.filters_query(request.POST.get("q", "")[:2000]))
    if not form.is_valid():
        return _queue_page(request, query, bulk_form=form, status=400)
    ids, action, text = (
        form.cleaned_data["breach"],
        form.cleaned_data["action"],
        form.cleaned_data["text"],
    )
    try:
        if action == "assign_me":
            done = desk.breaches_assign(
                breach_ids=ids, acting_user=request.user, assignee=request.user
            )
        elif action == "assign":
            done = desk.breaches_assign(
                breach_ids=ids, acting_user=request.user, assignee=form.assignee_user()
            )
        elif action == "explain":
            done = desk.breaches_request_explanation(
                breach_ids=ids, acting_user=request.user, text=text
            )
        else:
            done = desk.breaches_close_out_of_authority(
                breach_ids=ids, acting_user=request.user, reason=text
            )
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _queue_page(request, query, bulk_form=form, status=400)
    messages.success(request, _("Done for %(count)d breaches.") % {"count": done})
    return redirect(_queue_url(query.urlencode()))


@require_POST
@otp_required_for_privileged
def queue_filter_save(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    form = SavedFilterForm(request.POST)
    query = QueryDict(desk.filters_query(request.POST.get("q", "")[:2000]))
    if not form.is_valid():
        return _queue_page(request, query, saved_form=form, status=400)
    try:
        desk.saved_filter_save(
            owner=request.user, name=form.cleaned_data["name"], query=query.urlencode()
        )
    except ApplicationError as exc:
        form.add_error("name", exc.message)
        return _queue_page(request, query, saved_form=form, status=400)
    messages.success(request, _("The view is saved."))
    return redirect(_queue_url(query.urlencode()))


@require_POST
@otp_required_for_privileged
def queue_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _reviewer_only(request)
    if not desk.saved_filter_delete(owner=request.user, pk=pk):
        raise Http404
    messages.success(request, _("The view is deleted."))
    return redirect("breach_answers:queue")


@require_POST
@otp_required_for_privileged
def breach_pull_in_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer puts this breach on the review desk."""
    breach = get_permitted(request.user, Action.DECIDE_BREACH, breaches_with_facts(), pk=pk)
    try:
        desk.breach_pull_in(breach=breach, acting_user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("breach_answers:detail", pk=breach.pk)
    messages.success(request, _("The breach is on the review desk."))
    return redirect("breach_answers:detail", pk=breach.pk)
