"""Staff pages for agency administrators: members, invitations, revocations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.invitations import INVITABLE_ROLES, invitation_create, invitation_list_open
from agencies.models import Agency, Membership, Role, Unit
from agencies.policy import Action, get_permitted
from agencies.services import membership_revoke
from core.errors import ApplicationError, PermissionDeniedError
from core.forms import Form


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
