"""Staff pages of complaints (mounted at /staff/complaints/, namespace `complaint_staff`):
the list, one complaint with the steps the viewer may take, and the evidence files.

What each viewer sees (identity, text, evidence) is decided by feedback.complaints.privacy;
these views only ask it. A complaint the viewer may not see is a 404 (an outsider learns
nothing); a step the viewer may not take is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.otp import otp_required_for_privileged
from core.errors import ApplicationError, PermissionDeniedError
from core.forms import Form
from feedback.complaints import cases as complaint_cases
from feedback.complaints import privacy, services
from feedback.complaints.forms import (
    AnswerForm,
    AskInfoForm,
    CloseForm,
    ForwardForm,
    ModerateForm,
    ModerateReopenForm,
    RouteForm,
)
from feedback.complaints.models import Complaint, ComplaintEvidence
from feedback.complaints.selectors import (
    STAFF_PAGE_SIZE,
    complaint_for_staff,
    complaints_for_staff,
)
from feedback.complaints.states import ComplaintAction, ComplaintStatus, allowed_actions


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    complaint = complaint_for_staff(request.user, pk)
    if complaint is None:
        raise Http404
    return complaint


@require_safe
@otp_required_for_privileged
def complaint_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in ComplaintStatus.values else ""
    overdue = request.GET.get("overdue") == "1"
    desk = request.GET.get("desk") == "1"
    queryset = complaints_for_staff(request.user, status=status, overdue=overdue)
    if desk:
        queryset = queryset.filter(
            Q(escalated_at__isnull=False) | Q(ombudsman_requested_at__isnull=False)
        )
    page = Paginator(queryset, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/complaints/staff_list.html",
        {
            "page": page,
            "statuses": ComplaintStatus.choices,
            "status": status,
            "overdue": overdue,
            "desk": desk,
            "now": timezone.now(),
        },
    )


def _detail(
    request: HttpRequest,
    complaint: Complaint,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    handler = privacy.is_handler(user, complaint)
    actions = allowed_actions(complaint.status) if privacy.may_answer(user, complaint) else set()
    if not handler:
        actions &= {ComplaintAction.ANSWER}
    forms = forms or {}
    # The ombudsman's case of this complaint (reviewers only: the agency sees its cases in
    # the case pages once they are shown to it).
    case = complaint_cases.case_of_complaint(complaint) if privacy.is_ombudsman(user) else None
    # Errors of a step whose form is not on the page (a button, or a step no longer offered).
    shown = {
        "ask": ComplaintAction.ASK_INFO in actions,
        "route": ComplaintAction.ROUTE in actions,
        "forward": ComplaintAction.FORWARD in actions,
        "answer": ComplaintAction.ANSWER in actions,
        "close": ComplaintAction.CLOSE in actions,
        "moderate": handler and ComplaintAction.FORWARD not in actions,
        "moderate_reopen": handler and bool(complaint.reopen_reason),
    }
    step_errors = [
        error
        for name, form in forms.items()
        if not shown.get(name, False)
        for error in form.non_field_errors()
    ]
    context = {
        "step_errors": step_errors,
        "complaint": complaint,
        "text": privacy.text_for(user, complaint),
        "original": complaint.description if privacy.shows_original(user, complaint) else "",
        "identity": privacy.shows_identity(user, complaint),
        "evidence": list(complaint.evidence.all())
        if privacy.may_see_evidence(user, complaint)
        else [],
        "evidence_count": complaint.evidence.count(),
        "reopen_text": privacy.reopen_text_for(user, complaint),
        "reopen_original": complaint.reopen_reason
        if privacy.shows_reopen_original(user, complaint)
        else "",
        "events": [
            (event, privacy.note_for(user, complaint, event))
            for event in complaint.events.select_related("actor", "from_agency")
        ],
        "handler": handler,
        "actions": actions,
        "can_moderate": handler
        and complaint.status not in (ComplaintStatus.RECEIVED, ComplaintStatus.NEEDS_INFO),
        "can_escalate": handler and complaint.escalated_at is None,
        "case": case,
        "may_open_case": complaint_cases.may_open_case(user, complaint, case),
        "ask_form": forms.get("ask") or AskInfoForm(),
        "route_form": forms.get("route") or RouteForm(exclude_agency_id=complaint.agency_id),
        "forward_form": forms.get("forward")
        or ForwardForm(
            agency_id=complaint.agency_id,
            initial={
                "unit": complaint.unit_id,
                "public_text": complaint.public_text or complaint.description,
            },
        ),
        "moderate_form": forms.get("moderate")
        or ModerateForm(initial={"public_text": complaint.public_text or ""}),
        "moderate_reopen_form": forms.get("moderate_reopen")
        or ModerateReopenForm(
            initial={"reopen_text": complaint.reopen_public_text or complaint.reopen_reason}
        ),
        "answer_form": forms.get("answer") or AnswerForm(),
        "close_form": forms.get("close") or CloseForm(),
        "now": timezone.now(),
    }
    return render(request, "feedback/complaints/staff_detail.html", context, status=status)


@require_safe
@otp_required_for_privileged
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _complaint(request, pk))


def _act(
    request: HttpRequest,
    pk: int,
    name: str,
    form: Any,
    run: Callable[[Complaint, dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    complaint = _complaint(request, pk)
    if form.is_valid():
        try:
            run(complaint, form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, done)
            if not privacy.may_view(request.user, Complaint.objects.get(pk=complaint.pk)):
                return HttpResponseRedirect(reverse("complaint_staff:list"))
            return HttpResponseRedirect(reverse("complaint_staff:detail", kwargs={"pk": pk}))
    return _detail(request, complaint, forms={name: form}, status=400)


@require_POST
@otp_required_for_privileged
def complaint_verify(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "verify",
        Form(request.POST),
        lambda c, d: services.complaint_verify(complaint=c, actor=request.user),
        _("The complaint is verified."),
    )


@require_POST
@otp_required_for_privileged
def complaint_ask(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "ask",
        AskInfoForm(request.POST),
        lambda c, d: services.complaint_ask_info(
            complaint=c, actor=request.user, question=d["question"]
        ),
        _("Your question is shown to the complainant."),
    )


@require_POST
@otp_required_for_privileged
def complaint_route(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    return _act(
        request,
        pk,
        "route",
        RouteForm(request.POST, exclude_agency_id=complaint.agency_id),
        lambda c, d: services.complaint_route(complaint=c, actor=request.user, agency=d["agency"]),
        _("The complaint was routed to the other agency."),
    )


@require_POST
@otp_required_for_privileged
def complaint_forward(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint(request, pk)
    return _act(
        request,
        pk,
        "forward",
        ForwardForm(request.POST, agency_id=complaint.agency_id),
        lambda c, d: services.complaint_forward(
            complaint=c, actor=request.user, public_text=d["public_text"], unit=d["unit"]
        ),
        _("The complaint was forwarded to the unit."),
    )


@require_POST
@otp_required_for_privileged
def complaint_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "moderate",
        ModerateForm(request.POST),
        lambda c, d: services.complaint_moderate(
            complaint=c, actor=request.user, public_text=d["public_text"]
        ),
        _("The moderated text is saved."),
    )


@require_POST
@otp_required_for_privileged
def complaint_moderate_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "moderate_reopen",
        ModerateReopenForm(request.POST),
        lambda c, d: services.complaint_moderate_reopen(
            complaint=c, actor=request.user, public_text=d["reopen_text"]
        ),
        _("The moderated reason is saved: the unit reads it."),
    )


@require_POST
@otp_required_for_privileged
def complaint_answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "answer",
        AnswerForm(request.POST),
        lambda c, d: services.complaint_answer(complaint=c, actor=request.user, answer=d["answer"]),
        _("Your answer is shown to the complainant."),
    )


@require_POST
@otp_required_for_privileged
def complaint_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "close",
        CloseForm(request.POST),
        lambda c, d: services.complaint_close(complaint=c, actor=request.user, note=d["note"]),
        _("The complaint is closed."),
    )


@require_POST
@otp_required_for_privileged
def complaint_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "escalate",
        Form(request.POST),
        lambda c, d: services.complaint_escalate(complaint=c, actor=request.user),
        _("The complaint was sent to the ombudsman's desk."),
    )


@require_POST
@otp_required_for_privileged
def complaint_open_case(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer opens the ombudsman's case of a complaint on the desk."""
    complaint = _complaint(request, pk)
    if not privacy.is_ombudsman(request.user):
        raise PermissionDenied
    try:
        case = complaint_cases.complaint_open_case(complaint=complaint, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("complaint_staff:detail", kwargs={"pk": pk}))
    messages.success(request, _("The case is opened."))
    return HttpResponseRedirect(reverse("cases:detail", kwargs={"pk": case.pk}))


@require_safe
@otp_required_for_privileged
def complaint_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """One evidence file, to the complaint's handlers and the ombudsman only. Served as an
    attachment with its checked type, never rendered inline by guesswork."""
    evidence = ComplaintEvidence.objects.select_related("complaint").filter(pk=pk).first()
    if evidence is None or not privacy.may_view(request.user, evidence.complaint):
        raise Http404
    if not privacy.may_see_evidence(request.user, evidence.complaint):
        raise PermissionDenied
    extension = "pdf" if evidence.kind == "pdf" else "jpg"
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:  # the row outlived its file (a restore, a purge)
        raise Http404 from exc
    response: Any = FileResponse(
        handle,
        content_type=evidence.content_type,
        as_attachment=evidence.kind == "pdf",
        filename=f"bukti-{evidence.complaint.tracking_code}-{evidence.pk}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
