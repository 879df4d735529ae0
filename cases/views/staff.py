"""Staff pages of cases (under /staff/cases/): reviewers open and work cases; the agency's
staff answer requests, respond to draft findings and report on corrective actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.otp import otp_required_for_privileged
from agencies.models import Unit
from agencies.policy import Action, has_any
from cases import flow, services
from cases.forms import (
    ActionDecisionForm,
    DraftForm,
    FinaliseForm,
    GroupForm,
    NoteForm,
    OpenForm,
    RespondForm,
    StepForm,
    form_for,
)
from cases.models import ActionReport, Case, CaseState, ExplanationRequest
from cases.selectors import case_file, case_list_for, cases_with_facts
from core.errors import ApplicationError, PermissionDeniedError
from oversight.desk import is_reviewer

# The simple steps a reviewer's page offers as buttons (text and days optional or required
# by the service), in the order of the flow.
STEP_LABELS = {
    "verify": gettext_lazy("Start verification"),
    "fast_track": gettext_lazy("Fast lane: straight to examination"),
    "request_info": gettext_lazy("Ask for missing information"),
    "info_received": gettext_lazy("Information received"),
    "close_incomplete": gettext_lazy("Close: information not received"),
    "accept": gettext_lazy("Accept for examination"),
    "request_explanation": gettext_lazy("Request an explanation from the unit"),
    "stop": gettext_lazy("Stop the examination"),
    "monitor": gettext_lazy("Start monitoring the corrective actions"),
    "close": gettext_lazy("Close the case"),
}


def _case_or_404(request: HttpRequest, pk: int) -> tuple[Case, str]:
    case = get_object_or_404(cases_with_facts(), pk=pk)
    role = services.role_of(request.user, case)
    if role is None:
        # Nobody learns of a case they may not see, not even its agency before it is shown.
        raise Http404
    return case, role


def _page(
    request: HttpRequest,
    case: Case,
    role: str,
    *,
    form: Any = None,
    failed: str = "",
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    reviewer = role == flow.REVIEWER
    file = case_file(case, for_reviewer=reviewer)
    allowed = flow.actions_for(case.state, role)

    def bound(action: str, default: Any) -> Any:
        return form if failed == action and form is not None else default

    steps = [
        (action, STEP_LABELS[action], bound(action, StepForm(initial={"action": action})))
        for action in allowed
        if action in STEP_LABELS
    ]
    context: dict[str, Any] = {
        "case": case,
        "file": file,
        "role": role,
        "steps": steps,
        "draft_form": bound("issue_draft", DraftForm()) if "issue_draft" in allowed else None,
        "finalise_form": bound("finalise", FinaliseForm()) if "finalise" in allowed else None,
        "respond_form": bound("respond_draft", RespondForm())
        if "respond_draft" in allowed and file.finding and not file.finding.responded_at
        else None,
        "can_answer": "answer_explanation" in allowed,
        "answer_form": form if failed == "answer_explanation" else None,
        "can_report": "report_action" in allowed,
        "report_form": form if failed == "report_action" else None,
        "can_decide_actions": "accept_action" in allowed,
        "decision_form": form if isinstance(form, ActionDecisionForm) else None,
        "failed": failed,
        "note_form": note_form or NoteForm(),
        "states": CaseState.choices,
    }
    template = "cases/case_detail.html" if reviewer else "cases/case_agency.html"
    return render(request, template, context, status=status)


@otp_required_for_privileged
def case_list(request: HttpRequest) -> HttpResponse:
    reviewer = is_reviewer(request.user)
    if not reviewer and not has_any(request.user, Action.ANSWER_BREACH):
        raise PermissionDenied
    state = request.GET.get("state", "")
    state = state if state in CaseState.values else ""
    page = Paginator(case_list_for(user=request.user, state=state), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "state": state,
            "states": CaseState.choices,
            "reviewer": reviewer,
            "group_form": GroupForm() if reviewer else None,
        },
    )


@require_POST
@otp_required_for_privileged
def case_open_view(request: HttpRequest) -> HttpResponse:
    """Open a case from the breaches selected at the review desk."""
    if not is_reviewer(request.user):
        raise PermissionDenied
    form = OpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Select at least one breach."))
        return redirect("breach_answers:queue")
    try:
        case = services.case_open(
            breach_ids=form.cleaned_data["breach"],
            acting_user=request.user,
            title=form.cleaned_data["title"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("breach_answers:queue")
    messages.success(request, _("The case is opened."))
    return redirect("cases:detail", pk=case.pk)


@require_POST
@otp_required_for_privileged
def case_group_view(request: HttpRequest) -> HttpResponse:
    """Open a case for the breaches of one unit and kind in a period."""
    if not is_reviewer(request.user):
        raise PermissionDenied
    form = GroupForm(request.POST)
    error = _("Check the unit, kind and period.")
    if form.is_valid():
        unit = Unit.objects.filter(pk=form.cleaned_data["unit"]).first()
        if unit is None:
            error = _("There is no unit with this number.")
        else:
            try:
                case = services.case_open_for_group(
                    unit=unit,
                    kind=form.cleaned_data["kind"],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    acting_user=request.user,
                )
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(request, _("The case is opened."))
                return redirect("cases:detail", pk=case.pk)
    page = Paginator(case_list_for(user=request.user), 50).get_page(1)
    form.add_error(None, error)
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "state": "",
            "states": CaseState.choices,
            "reviewer": True,
            "group_form": form,
        },
        status=400,
    )


@otp_required_for_privileged
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, role = _case_or_404(request, pk)
    return _page(request, case, role)


@require_POST
@otp_required_for_privileged
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One step of the flow, by whoever the table allows."""
    case, role = _case_or_404(request, pk)
    action = str(request.POST.get("action", ""))[:40]
    form = form_for(action)(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, case, role, form=form, failed=action, status=400)
    data = dict(form.cleaned_data)
    data.pop("action", None)
    if action == "issue_draft":
        data["actions"] = data.get("actions") or []
    if action == "report_action" and data.get("evidence") is None:
        data.pop("evidence", None)
    if action == "answer_explanation" and data.get("attachment") is None:
        data.pop("attachment", None)
    try:
        services.case_transition(case, action, request.user, **data)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ApplicationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
        return _page(request, case, role, form=form, failed=action, status=400)
    messages.success(request, _("Done."))
    return redirect("cases:detail", pk=case.pk)


@require_POST
@otp_required_for_privileged
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    case, role = _case_or_404(request, pk)
    if role != flow.REVIEWER:
        raise Http404  # the agency never learns that notes exist
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.case_note_add(
                case=case, acting_user=request.user, text=form.cleaned_data["text"]
            )
        except ApplicationError as exc:
            form.add_error("text", exc.message)
    if form.errors:
        return _page(request, case, role, note_form=form, status=400)
    return redirect("cases:detail", pk=case.pk)


# Served from the file's first bytes (checked on upload), never from the name.
CONTENT_TYPES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


@otp_required_for_privileged
def case_file_view(request: HttpRequest, pk: int, kind: str, file_id: int) -> HttpResponse:
    """An evidence file or an explanation's attachment, to the case's reviewers and its
    agency's staff only (the files are stored under random names, outside any public URL)."""
    case, _role = _case_or_404(request, pk)
    if kind == "report":
        report = get_object_or_404(ActionReport, pk=file_id, action__finding__case=case)
        stored = report.evidence
    elif kind == "request":
        request_row = get_object_or_404(ExplanationRequest, pk=file_id, case=case)
        stored = request_row.attachment
    else:
        raise Http404
    if not stored:
        raise Http404
    handle = stored.open("rb")
    head = handle.read(8)
    handle.seek(0)
    content_type = next(
        (ct for sig, ct in CONTENT_TYPES.items() if head.startswith(sig)),
        "application/octet-stream",
    )
    response = FileResponse(handle, content_type=content_type, as_attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]
