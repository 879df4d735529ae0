"""Staff area: import service standards from a spreadsheet, and export them.

Upload -> preview (nothing written) -> confirm (one transaction, all or nothing).
The uploaded bytes stay on the server as a waiting import job (a row) that only its
uploader can see; confirmation checks the file again against the database.
Outsiders get 404; members without the right get 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agencies.models import Agency
from agencies.policy import Action, agencies_for, can_in_agency, refuse
from imports.models import ImportJob, ImportKind, ImportState
from imports.selectors import import_job_get
from services import exporting
from services.import_forms import ImportUploadForm
from services.importing import (
    COLUMN_HELP,
    COLUMNS,
    MAX_ROWS,
    FileKind,
    ImportPlan,
    ImportRefusedError,
    Issue,
    RowAction,
    import_cancel,
    import_confirm,
    import_plan,
    import_stage,
    staged_content,
)
from services.models import (
    Channel,
    ClockStart,
    ComplaintChannelKind,
    Facility,
    ServiceCategory,
    TimeUnit,
)

_COLUMN_VALUES: dict[str, list[str]] = {
    "category": ServiceCategory.values,
    "channels": Channel.values,
    "processing_time_unit": TimeUnit.values,
    "clock_start": ClockStart.values,
    "complaint_channels": ComplaintChannelKind.values,
    "facilities": Facility.values,
}


def issue_text(issue: Issue) -> str:
    if issue.line is None:
        return issue.message
    if issue.column:
        return _("Line %(line)d, column %(column)s: %(message)s") % {
            "line": issue.line,
            "column": issue.column,
            "message": issue.message,
        }
    return _("Line %(line)d: %(message)s") % {"line": issue.line, "message": issue.message}


def _check_posted_agency(request: HttpRequest, allowed: QuerySet[Agency]) -> None:
    raw = request.POST.get("agency", "")
    if not raw.isdigit():
        return  # the form reports it
    agency = Agency.objects.filter(pk=int(raw)).first()
    if agency is not None and not allowed.filter(pk=agency.pk).exists():
        refuse(request.user, agency)


def _column_help() -> list[dict[str, str]]:
    rows = []
    for column in COLUMNS:
        values = _COLUMN_VALUES.get(column)
        text = str(COLUMN_HELP[column])
        if values:
            text = text % {"values": ", ".join(values)}
        rows.append({"name": column, "help": text})
    return rows


def _load(request: HttpRequest, token: str) -> tuple[ImportJob, bytes]:
    """The waiting upload behind a token, if it is this user's and still allowed."""
    job = import_job_get(user=request.user, job_id=token, kind=ImportKind.STANDARDS)
    if job is None or job.state != ImportState.WAITING:
        raise Http404
    content = staged_content(job=job)
    if content is None:
        import_cancel(job=job)
        raise Http404
    return job, content


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    edit_agencies = agencies_for(user, Action.EDIT_STANDARD).order_by("name")
    export_agencies = agencies_for(user, Action.VIEW_PRIVATE).order_by("name")
    can_import = edit_agencies.exists()
    if not can_import and not export_agencies.exists():
        raise PermissionDenied
    form: ImportUploadForm | None = None
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        _check_posted_agency(request, edit_agencies)
        form = ImportUploadForm(request.POST, request.FILES, agencies=edit_agencies)
        if form.is_valid():
            agency: Agency = form.cleaned_data["agency"]
            assert form.kind is not None
            plan = import_plan(agency=agency, user=user, content=form.content, kind=form.kind)
            if plan.fatal:
                for issue in plan.issues:
                    form.add_error("file", issue_text(issue))
            else:
                job = import_stage(
                    agency=agency,
                    user=user,
                    content=form.content,
                    kind=form.kind,
                    filename=form.cleaned_data["file"].name or "",
                )
                return redirect("imports:preview", token=job.pk)
    elif can_import:
        initial = {}
        wanted = edit_agencies.filter(slug=request.GET.get("agency", "")).first()
        if wanted is not None:
            initial["agency"] = wanted
        form = ImportUploadForm(agencies=edit_agencies, initial=initial)
    return render(
        request,
        "services/import/upload.html",
        {
            "form": form,
            "export_agencies": export_agencies,
            "columns": _column_help(),
            "max_rows": MAX_ROWS,
        },
    )


def _render_preview(
    request: HttpRequest,
    *,
    job: ImportJob,
    plan: ImportPlan,
    issues: list[Issue] | None = None,
    status: int = 200,
) -> HttpResponse:
    shown = plan.issues if issues is None else issues
    return render(
        request,
        "services/import/preview.html",
        {
            "token": str(job.pk),
            "filename": job.filename,
            "agency": job.agency,
            "plan": plan,
            "issues": [
                {"line": i.line, "column": i.column, "message": i.message, "text": issue_text(i)}
                for i in shown
            ],
            "can_confirm": plan.ok and not shown,
            "counts": {
                "create": plan.count(RowAction.CREATE_SERVICE),
                "new": plan.count(RowAction.NEW_DRAFT),
                "update": plan.count(RowAction.UPDATE_DRAFT),
            },
        },
        status=status,
    )


@login_required
@never_cache
def preview(request: HttpRequest, token: str) -> HttpResponse:
    job, content = _load(request, token)
    plan = import_plan(
        agency=job.agency, user=request.user, content=content, kind=FileKind(job.file_format)
    )
    return _render_preview(request, job=job, plan=plan)


@login_required
@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    job, content = _load(request, token)
    agency = job.agency
    try:
        result = import_confirm(job=job, acting_user=request.user, content=content)
    except ImportRefusedError as refused:
        messages.error(request, refused.message)
        plan = import_plan(
            agency=agency, user=request.user, content=content, kind=FileKind(job.file_format)
        )
        return _render_preview(request, job=job, plan=plan, issues=refused.issues, status=400)
    if result is None:  # confirmed meanwhile, in another request
        raise Http404
    messages.success(
        request,
        _(
            "Imported %(rows)d rows into %(agency)s: %(created)d new services, %(drafts)d new "
            "drafts, %(updated)d drafts updated. Nothing was published."
        )
        % {
            "rows": len(result.versions),
            "agency": agency.name,
            "created": result.services_created,
            "drafts": result.drafts_created,
            "updated": result.drafts_updated,
        },
    )
    return redirect("staff:dashboard")


@login_required
@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    job = import_job_get(user=request.user, job_id=token, kind=ImportKind.STANDARDS)
    if job is None or job.state != ImportState.WAITING:
        raise Http404
    import_cancel(job=job)
    messages.info(request, _("The import was cancelled; nothing was written."))
    return redirect("imports:upload")


def _export_agency(request: HttpRequest, agency_slug: str) -> Agency:
    agency = get_object_or_404(Agency, slug=agency_slug)
    if not can_in_agency(request.user, Action.VIEW_PRIVATE, agency.pk):
        raise Http404
    return agency


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@never_cache
def export_csv(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = _export_agency(request, agency_slug)
    drafts = request.GET.get("drafts") == "1"
    content = exporting.export_csv(agency=agency, user=request.user, drafts=drafts)
    suffix = "-drafts" if drafts else ""
    return _download(content, "text/csv; charset=utf-8", f"{agency.slug}-standards{suffix}.csv")


@login_required
@never_cache
def export_xlsx(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = _export_agency(request, agency_slug)
    drafts = request.GET.get("drafts") == "1"
    content = exporting.export_xlsx(agency=agency, user=request.user, drafts=drafts)
    suffix = "-drafts" if drafts else ""
    return _download(
        content,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{agency.slug}-standards{suffix}.xlsx",
    )
