"""Staff pages of agencies: members and invitations, for agency administrators; API keys, which
an agency's admins manage for their agency and the ombudsman's reviewers for the ombudsman's
read-only key across agencies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.api_keys import (
    NAME_MAX_LENGTH,
    api_key_create,
    api_key_get,
    api_key_list,
    api_key_revoke,
    can_manage_ombudsman_keys,
)
from agencies.invitations import INVITABLE_ROLES, invitation_create, invitation_list_open
from agencies.models import Agency, ApiKeyEvent, ApiKeyScope, Membership, Role, Unit
from agencies.policy import Action, get_permitted
from agencies.services import membership_revoke
from core.client_ip import client_ip
from core.errors import ApplicationError, PermissionDeniedError
from core.forms import Form

# --- Members and invitations ------------------------------------------------------------------


class InviteForm(Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[(value, label) for value, label in Role.choices if value in INVITABLE_ROLES],
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whole agency"),
        help_text=gettext_lazy("Optional: limit the role to one unit."),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = Unit.objects.filter(agency=agency, is_active=True).order_by("name")


def _render_members(
    request: HttpRequest, agency: Agency, form: InviteForm, status: int = 200
) -> HttpResponse:
    memberships = (
        Membership.objects.filter(agency=agency)
        .select_related("user", "unit")
        .order_by("role", "user__last_name", "user__first_name", "user__username")
    )
    return render(
        request,
        "agencies/members.html",
        {
            "agency": agency,
            "memberships": memberships,
            "invitations": invitation_list_open(agency=agency),
            "form": form,
        },
        status=status,
    )


@require_GET
@otp_required_for_privileged
def members(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    return _render_members(request, agency, InviteForm(agency=agency))


@require_POST
@otp_required_for_privileged
def member_invite(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    form = InviteForm(request.POST, agency=agency)
    if form.is_valid():
        try:
            invitation = invitation_create(
                agency=agency,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                unit=form.cleaned_data["unit"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("agency_admin:members", agency_slug=agency.slug)
    return _render_members(request, agency, form, status=400)


@require_POST
@otp_required_for_privileged
def member_revoke(request: HttpRequest, agency_slug: str, membership_id: int) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, agency=agency
    )
    try:
        membership_revoke(membership=membership, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request,
        _("%(user)s no longer has the role %(role)s.")
        % {"user": membership.user, "role": membership.get_role_display()},
    )
    return redirect("agency_admin:members", agency_slug=agency.slug)


# --- API keys ---------------------------------------------------------------------------------


RECENT_EVENTS = 30


class ApiKeyForm(Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("Which system uses it, e.g. “SIAK counter app”."),
    )
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=ApiKeyScope.choices)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        help_text=gettext_lazy("Optional. The key stops working at the end of this day (WIB)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, ombudsman: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ombudsman:
            field = self.fields["scope"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(ApiKeyScope.READ.value, ApiKeyScope.READ.label)]

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        start_of_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(start_of_next)


def _agency_or_ombudsman(request: HttpRequest, agency_slug: str | None) -> Agency | None:
    if agency_slug is not None:
        return get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    if not can_manage_ombudsman_keys(request.user):
        raise Http404
    return None


def _list_url(agency: Agency | None) -> str:
    if agency is None:
        return reverse("api_keys:ombudsman")
    return reverse("agency_admin:api_keys", kwargs={"agency_slug": agency.slug})


def _render(
    request: HttpRequest,
    agency: Agency | None,
    form: ApiKeyForm,
    *,
    created: Any = None,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    keys = list(api_key_list(agency=agency))
    events = (
        ApiKeyEvent.objects.filter(key__in=[key.pk for key in keys])
        .select_related("key", "actor")
        .order_by("-at", "-pk")[:RECENT_EVENTS]
    )
    response = render(
        request,
        "agencies/api_keys.html",
        {
            "agency": agency,
            "keys": keys,
            "events": events,
            "form": form,
            "created": created,
            "secret": secret,
            "now": timezone.now(),
            "list_url": _list_url(agency),
        },
        status=status,
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def api_keys(request: HttpRequest, agency_slug: str | None = None) -> HttpResponse:
    agency = _agency_or_ombudsman(request, agency_slug)
    ombudsman = agency is None
    if request.method != "POST":
        return _render(request, agency, ApiKeyForm(ombudsman=ombudsman))
    form = ApiKeyForm(request.POST, ombudsman=ombudsman)
    if form.is_valid():
        try:
            key, secret = api_key_create(
                agency=agency,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                acting_user=request.user,
                ip=client_ip(request),
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            field = "expires_on" if exc.field == "expires_at" else exc.field
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            # Shown once, in this response only (never stored, never cached).
            return _render(
                request,
                agency,
                ApiKeyForm(ombudsman=ombudsman),
                created=key,
                secret=secret,
            )
    return _render(request, agency, form, status=400)


@require_POST
@otp_required_for_privileged
def api_key_revoke_view(
    request: HttpRequest, prefix: str, agency_slug: str | None = None
) -> HttpResponse:
    agency = _agency_or_ombudsman(request, agency_slug)
    key = api_key_get(agency=agency, prefix=prefix)
    if key is None:
        raise Http404
    try:
        api_key_revoke(key=key, acting_user=request.user, ip=client_ip(request))
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request, _("The key %(prefix)s is revoked: it no longer works.") % {"prefix": key.prefix}
    )
    return redirect(_list_url(agency))
