"""Staff pages of services: standards, and their import and export.

Standards: draft, edit, submit, publish and compare standard versions. Thin adapters: every
permission decision is the policy's, every write a service function. Objects outside the
user's view scope are 404; visible objects without the right are 403.

Import and export: service standards from and to a spreadsheet. Upload -> preview (nothing
written) -> confirm (one transaction, all or nothing). The uploaded bytes stay on the server
as a waiting import job (a row) that only its uploader can see; confirmation checks the file
again against the database.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agencies.models import Agency
from agencies.policy import Action, agencies_for, can, can_in_agency, permitted, refuse, scope
from core.errors import ApplicationError
from core.storage import StorageUnavailableError
from imports.models import ImportJob, ImportKind, ImportState
from imports.selectors import import_job_get
from services import exporting
from services import services as writes
from services.components import completeness
from services.diff import version_diff
from services.forms import (
    ConsultationForm,
    PublishForm,
    ServiceForm,
    VersionForm,
    build_formsets,
    formset_rows,
)
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
    StandardVersion,
    TimeUnit,
)
from services.selectors import service_list_for_staff, version_list_for_staff, version_with_content

# --- Standards --------------------------------------------------------------------------------


def _get_version(request: HttpRequest, pk: int) -> StandardVersion:
    return get_object_or_404(version_with_content(version_list_for_staff(user=request.user)), pk=pk)


def _initial_from(
    version: StandardVersion,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    return writes.version_content(version)


def _content_forms_valid(version_form: VersionForm, formsets: dict[str, Any]) -> bool:
    valid = version_form.is_valid()
    for formset in formsets.values():
        valid = formset.is_valid() and valid
    return valid


def _children(formsets: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {relation: formset_rows(fs) for relation, fs in formsets.items()}


def _apply_error(form: VersionForm, error: ApplicationError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@login_required
def service_create(request: HttpRequest) -> HttpResponse:
    agencies = agencies_for(request.user, Action.EDIT_STANDARD).order_by("name")
    agency_id = request.GET.get("agency") or request.POST.get("agency")
    agency: Agency | None = None
    if agency_id:
        agency = get_object_or_404(agencies, pk=agency_id) if str(agency_id).isdigit() else None
    if agency is None:
        if not agencies.exists():
            raise PermissionDenied
        if agencies.count() > 1:
            return render(request, "services/staff/choose_agency.html", {"agencies": agencies})
        agency = agencies.get()
    if not can_in_agency(request.user, Action.EDIT_STANDARD, agency.pk):
        raise PermissionDenied
    units = scope(
        request.user, agency.units.filter(is_active=True), Action.EDIT_STANDARD, unit_field="pk"
    )
    data = request.POST if request.method == "POST" else None
    form = ServiceForm(data, units=units)
    version_form = VersionForm(
        data, initial={"processing_time_unit": "working_days", "clock_start": "on_complete"}
    )
    formsets = build_formsets(data)
    if request.method == "POST":
        form_ok = form.is_valid()
        if _content_forms_valid(version_form, formsets) and form_ok:
            try:
                service = writes.service_create(
                    agency=agency,
                    unit=form.cleaned_data["unit"],
                    name=form.cleaned_data["name"],
                    category=form.cleaned_data["category"],
                    channels=form.cleaned_data["channels"],
                    keywords=form.cleaned_data["keywords"],
                    summary=form.cleaned_data["summary"],
                    acting_user=request.user,
                )
                version = writes.standard_draft_create(
                    service=service,
                    acting_user=request.user,
                    data=version_form.cleaned_data,
                    children=_children(formsets),
                )
            except ApplicationError as error:
                _apply_error(version_form, error)
            else:
                messages.success(request, _("The draft standard was saved."))
                return redirect("standards:version", pk=version.pk)
    return render(
        request,
        "services/staff/version_form.html",
        {"agency": agency, "service_form": form, "form": version_form, "formsets": formsets},
    )


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    service = version.service
    others = service.versions.exclude(pk=version.pk).only("pk", "number", "status")
    return render(
        request,
        "services/staff/version_detail.html",
        {
            "version": version,
            "service": service,
            "completeness": completeness(version),
            "others": others,
            "can_edit": can(request.user, Action.EDIT_STANDARD, version),
            "can_publish": can(request.user, Action.PUBLISH_STANDARD, version),
            "publish_form": PublishForm(
                initial={"decree_number": version.decree_number, "decree_date": version.decree_date}
            ),
            "consultation_form": ConsultationForm(),
        },
    )


@login_required
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, version)
    if not version.is_editable:
        messages.error(
            request, _("A published standard version cannot be changed; create a new version.")
        )
        return redirect("standards:version", pk=version.pk)
    data = request.POST if request.method == "POST" else None
    initial, children = _initial_from(version)
    version_form = VersionForm(data, initial=initial)
    formsets = build_formsets(data, initial=children)
    if request.method == "POST" and _content_forms_valid(version_form, formsets):
        try:
            writes.standard_draft_update(
                version=version,
                acting_user=request.user,
                data=version_form.cleaned_data,
                children=_children(formsets),
            )
        except ApplicationError as error:
            _apply_error(version_form, error)
        else:
            messages.success(request, _("The draft standard was saved."))
            return redirect("standards:version", pk=version.pk)
    return render(
        request,
        "services/staff/version_form.html",
        {
            "agency": version.service.agency,
            "version": version,
            "form": version_form,
            "formsets": formsets,
        },
    )


def _action_redirect(version_pk: int) -> HttpResponseRedirect:
    return redirect(reverse("standards:version", kwargs={"pk": version_pk}))


@login_required
@require_POST
def version_submit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, version)
    try:
        writes.standard_submit_for_approval(version=version, acting_user=request.user)
        messages.success(request, _("The draft was sent for approval."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return _action_redirect(version.pk)


@login_required
@require_POST
def version_return_to_draft(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, version)
    try:
        writes.standard_return_to_draft(version=version, acting_user=request.user)
        messages.success(request, _("The version is a draft again."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return _action_redirect(version.pk)


@login_required
@require_POST
def version_open_consultation(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, version)
    form = ConsultationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid closing date."))
        return _action_redirect(version.pk)
    try:
        writes.standard_open_consultation(
            version=version, closes_on=form.cleaned_data["closes_on"], acting_user=request.user
        )
        messages.success(request, _("The draft is open for public consultation."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return _action_redirect(version.pk)


@login_required
@require_POST
def version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.PUBLISH_STANDARD, version)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the publication details."))
        return _action_redirect(version.pk)
    try:
        writes.standard_publish(
            version=version,
            acting_user=request.user,
            acknowledge_incomplete=form.cleaned_data["acknowledge_incomplete"],
            decree_number=form.cleaned_data["decree_number"] or None,
            decree_date=form.cleaned_data["decree_date"],
        )
    except ApplicationError as error:
        if error.code == "incomplete":
            messages.error(
                request,
                _(
                    "This standard is missing components. Tick the acknowledgement to publish it anyway."
                ),
            )
        else:
            messages.error(request, error.message)
        return _action_redirect(version.pk)
    messages.success(request, _("The standard is published."))
    return _action_redirect(version.pk)


@login_required
@require_POST
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, version)
    try:
        draft = writes.standard_new_version(version=version, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        existing = error.extra.get("version_id")
        return _action_redirect(existing or version.pk)
    messages.success(request, _("A new draft version was created from this one."))
    return redirect("standards:version_edit", pk=draft.pk)


@login_required
def version_compare(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    version = _get_version(request, pk)
    other = _get_version(request, other_pk)
    if other.service_id != version.service_id:
        raise PermissionDenied
    old, new = sorted([version, other], key=lambda v: v.number)
    return render(
        request,
        "services/staff/version_compare.html",
        {"old": old, "new": new, "diff": version_diff(old, new), "service": version.service},
    )


@login_required
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(service_list_for_staff(user=request.user), pk=pk)
    versions = service.versions.select_related("published_by", "created_by").order_by("-number")
    return render(
        request,
        "services/staff/service_detail.html",
        {
            "service": service,
            "versions": versions,
            "can_edit": can(request.user, Action.EDIT_STANDARD, service),
        },
    )


# --- Import and export ------------------------------------------------------------------------


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
                try:
                    job = import_stage(
                        agency=agency,
                        user=user,
                        content=form.content,
                        kind=form.kind,
                        filename=form.cleaned_data["file"].name or "",
                    )
                except StorageUnavailableError as full:  # the disk is full or read-only
                    form.add_error("file", full.message)
                else:
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
