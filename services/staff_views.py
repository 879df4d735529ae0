"""Staff area: draft, edit, submit, publish and compare standard versions.

Thin adapters: every permission decision is the policy's, every write a service function.
Objects outside the user's view scope are 404; visible objects without the right are 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency
from agencies.policy import Action, agencies_for, can, can_in_agency, permitted, scope
from core.errors import ApplicationError
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
from services.models import StandardVersion
from services.selectors import service_list_for_staff, version_list_for_staff, version_with_content


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
