"""Public pages of agencies: accepting an invitation to join an agency.

The page lives under /accounts/ (config/urls.py puts it in the `accounts` namespace): a
newcomer signs up there, a member signs in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import InvitationSignupForm
from accounts.login import login_finish
from accounts.models import User
from accounts.otp import url_with_next
from agencies.invitations import (
    InvitationError,
    invitation_accept,
    invitation_accept_new_user,
    invitation_get_by_token,
)
from core.errors import ApplicationError


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_get_by_token(token=token)
    except InvitationError as exc:
        return render(
            request, "agencies/invitation_invalid.html", {"message": exc.message}, status=exc.status
        )
    context: dict[str, Any] = {"invitation": invitation, "agency": invitation.agency}
    user = request.user
    if user.is_authenticated:
        if user.email.strip().lower() != invitation.email.strip().lower():
            context["state"] = "other_account"
            return render(request, "agencies/invitation.html", context, status=403)
        context["state"] = "accept"
        if request.method == "POST":
            try:
                invitation_accept(invitation=invitation, user=user)
            except InvitationError as exc:
                return render(
                    request,
                    "agencies/invitation_invalid.html",
                    {"message": exc.message},
                    status=exc.status,
                )
            messages.success(
                request,
                _("Welcome to %(agency)s: your new role is active.")
                % {"agency": invitation.agency.name},
            )
            return redirect(settings.LOGIN_REDIRECT_URL)
        return render(request, "agencies/invitation.html", context)

    if User.objects.filter(email__iexact=invitation.email).exists():
        context["state"] = "log_in"
        context["login_url"] = url_with_next("accounts:login", request.get_full_path())
        return render(request, "agencies/invitation.html", context)

    context["state"] = "sign_up"
    status = 200
    if request.method == "POST":
        form = InvitationSignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                new_user = invitation_accept_new_user(
                    invitation=invitation,
                    username=data["username"],
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
            except InvitationError as exc:
                return render(
                    request,
                    "agencies/invitation_invalid.html",
                    {"message": exc.message},
                    status=exc.status,
                )
            except ApplicationError as exc:
                field = {"password": "password1"}.get(exc.field or "", exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    _("Welcome to %(agency)s: your account is ready.")
                    % {"agency": invitation.agency.name},
                )
                return login_finish(
                    request, user=new_user, next_url=resolve_url(settings.LOGIN_REDIRECT_URL)
                )
        status = 400
    else:
        form = InvitationSignupForm()
    context["form"] = form
    return render(request, "agencies/invitation.html", context, status=status)
