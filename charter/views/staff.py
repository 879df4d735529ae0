"""Staff pages of charters (maklumat pelayanan): draft, edit, publish, new version, compare,
withdraw.

Thin adapters on the pattern of the standards' pages: every permission decision is the
policy's, every write a function of charter/services.py (so the history records it).
Charters outside the user's view scope are 404; visible ones without the right are 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Unit
from agencies.policy import Action, can, has_any, permitted, refuse, scope
from charter import services as writes
from charter.diff import charter_diff
from charter.forms import FORM_FIELDS, CharterForm, UnitChoiceForm, WithdrawForm
from charter.models import Charter, CharterStatus
from charter.selectors import charter_list_for_staff
from core.errors import ApplicationError
from services.models import Service


def _charters(request: HttpRequest) -> Any:
    return charter_list_for_staff(user=request.user).select_related("unit__agency")


def _get_charter(request: HttpRequest, pk: int) -> Charter:
    return get_object_or_404(
        _charters(request).prefetch_related(
            Prefetch("services", queryset=Service.objects.order_by("name"))
        ),
        pk=pk,
    )


def _editable_units(request: HttpRequest) -> Any:
    return scope(
        request.user,
        Unit.objects.filter(is_active=True),
        Action.EDIT_STANDARD,
        agency_field="agency",
        unit_field="pk",
    )


def _apply_error(form: BaseForm, error: ApplicationError | ValidationError) -> None:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _content(form: CharterForm) -> dict[str, Any]:
    data = {k: v for k, v in form.cleaned_data.items() if k in FORM_FIELDS}
    for key in ("decree_number", "sanction_statement"):
        data[key] = data.get(key) or ""
    return data


@login_required
def charter_list(request: HttpRequest) -> HttpResponse:
    if not has_any(request.user, Action.VIEW_PRIVATE):
        raise PermissionDenied
    charters = _charters(request).order_by("unit__agency__name", "unit__name", "-number")
    return render(
        request,
        "charter/staff/charter_list.html",
        {"charters": charters, "can_create": has_any(request.user, Action.EDIT_STANDARD)},
    )


@login_required
def charter_create(request: HttpRequest) -> HttpResponse:
    if not has_any(request.user, Action.EDIT_STANDARD):
        raise PermissionDenied
    units = _editable_units(request)
    raw = request.GET.get("unit") or request.POST.get("unit")
    unit = None
    if raw and raw.isdigit():
        # Another agency's unit: 404 to an outsider, 403 to those who may see it.
        wanted = Unit.objects.filter(pk=int(raw)).first()
        if wanted is not None and not units.filter(pk=wanted.pk).exists():
            refuse(request.user, wanted)
    if raw:
        chooser = UnitChoiceForm({"unit": raw}, units=units)
        if chooser.is_valid():
            unit = chooser.cleaned_data["unit"]
    else:
        chooser = UnitChoiceForm(units=units)
    if unit is None:
        return render(request, "charter/staff/choose_unit.html", {"form": chooser})
    data = request.POST if request.method == "POST" else None
    form = CharterForm(
        data, unit=unit, initial={"pledge": Charter._meta.get_field("pledge").default}
    )
    if request.method == "POST" and form.is_valid():
        content = _content(form)
        try:
            charter = writes.charter_draft_create(
                unit=unit,
                services=content.pop("services"),
                acting_user=request.user,
                **content,
            )
        except (ApplicationError, ValidationError) as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The draft charter was saved."))
            return redirect("charter_staff:detail", pk=charter.pk)
    return render(
        request, "charter/staff/charter_form.html", {"form": form, "unit": unit, "charter": None}
    )


@login_required
def charter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_charter(request, pk), withdraw_form=WithdrawForm())


def _render_detail(
    request: HttpRequest,
    charter: Charter,
    *,
    withdraw_form: WithdrawForm,
    status: int = 200,
) -> HttpResponse:
    others = (
        Charter.objects.filter(unit_id=charter.unit_id)
        .exclude(pk=charter.pk)
        .only("pk", "number", "status", "unit_id")
        .order_by("-number")
    )
    return render(
        request,
        "charter/staff/charter_detail.html",
        {
            "charter": charter,
            "unit": charter.unit,
            "others": others,
            "can_edit": can(request.user, Action.EDIT_STANDARD, charter),
            "can_publish": can(request.user, Action.PUBLISH_STANDARD, charter),
            "withdraw_form": withdraw_form,
        },
        status=status,
    )


@login_required
def charter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _get_charter(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, charter)
    if charter.status != CharterStatus.DRAFT:
        messages.error(request, _("A published charter cannot be changed; create a new version."))
        return _back(charter.pk)
    data = request.POST if request.method == "POST" else None
    form = CharterForm(data, instance=charter, unit=charter.unit)
    if request.method == "POST" and form.is_valid():
        content = _content(form)
        try:
            writes.charter_draft_update(
                charter=charter,
                services=content.pop("services"),
                acting_user=request.user,
                **content,
            )
        except (ApplicationError, ValidationError) as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The draft charter was saved."))
            return _back(charter.pk)
    return render(
        request,
        "charter/staff/charter_form.html",
        {"form": form, "unit": charter.unit, "charter": charter},
    )


def _back(pk: int) -> HttpResponseRedirect:
    return redirect("charter_staff:detail", pk=pk)


@login_required
@require_POST
def charter_publish(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _get_charter(request, pk)
    permitted(request.user, Action.PUBLISH_STANDARD, charter)
    try:
        writes.charter_publish(charter=charter, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The charter is published."))
    return _back(charter.pk)


@login_required
@require_POST
def charter_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _get_charter(request, pk)
    permitted(request.user, Action.EDIT_STANDARD, charter)
    try:
        draft = writes.charter_new_version(charter=charter, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back(error.extra.get("charter_id") or charter.pk)
    messages.success(request, _("A new draft version was created from this one."))
    return redirect("charter_staff:edit", pk=draft.pk)


@login_required
@require_POST
def charter_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _get_charter(request, pk)
    permitted(request.user, Action.PUBLISH_STANDARD, charter)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            writes.charter_withdraw(
                charter=charter, reason=form.cleaned_data["reason"], acting_user=request.user
            )
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The charter was withdrawn."))
            return _back(charter.pk)
    return _render_detail(request, charter, withdraw_form=form, status=400)


@login_required
def charter_compare(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    charter = _get_charter(request, pk)
    other = _get_charter(request, other_pk)
    if other.unit_id != charter.unit_id:
        raise PermissionDenied
    old, new = sorted([charter, other], key=lambda c: c.number)
    return render(
        request,
        "charter/staff/charter_compare.html",
        {"old": old, "new": new, "unit": charter.unit, "changes": charter_diff(old, new)},
    )
