"""Login (password, then TOTP code when enrolled) and TOTP enrollment.

Pages for anyone who arrives (the staff area's gate sends people here); the invitation page
that ends in a login is agencies'.
"""

from __future__ import annotations

import base64
import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import CodeForm, LoginForm
from accounts.login import BACKEND, login_finish
from accounts.models import User
from accounts.otp import confirmed_device, is_verified, url_with_next, user_requires_2fa
from accounts.services import (
    totp_device_confirm,
    totp_device_disable,
    totp_device_start,
    totp_verify,
)
from accounts.throttle import (
    LoginAccount,
    login_account_for_name,
    login_account_for_user,
    login_failure_record,
    login_refusal,
    login_success_record,
)
from core.errors import ApplicationError

# How long the password step stays valid while the TOTP code is awaited.
PENDING_LOGIN_MAX_AGE = 300
PENDING_LOGIN_SESSION_KEY = "accounts_pending_login"


# --- Helpers -----------------------------------------------------------------
def _next_url(request: HttpRequest, default: str | None = None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default or settings.LOGIN_REDIRECT_URL)


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_LOGIN_SESSION_KEY)
    if not pending:
        return None
    if time.time() - pending.get("at", 0) > PENDING_LOGIN_MAX_AGE:
        del request.session[PENDING_LOGIN_SESSION_KEY]
        return None
    return User.objects.filter(pk=pending.get("user_id"), is_active=True).first()


# --- Login ---------------------------------------------------------------------
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    status, limited_message = 200, ""
    if request.method == "POST":
        form = LoginForm(request, data=request.POST)
        name = request.POST.get("username", "")
        account = login_account_for_name(name=name) if name.strip() else None
        refusal = login_refusal(request=request, account=account)
        if refusal is not None:
            # Not even checked: a correct password must not be confirmed either.
            form = LoginForm(request, initial={"username": name})
            limited_message, status = refusal.message(), 429
        elif form.is_valid() and form.user is not None:
            user = form.user
            request.session.pop(PENDING_LOGIN_SESSION_KEY, None)
            if confirmed_device(user) is not None:
                if request.user.is_authenticated:
                    # Switching accounts: the code step must not see the previous one.
                    auth_logout(request)
                # Not logged in yet: the code step finishes the login (and only a finished
                # login forgets failures, or a known password would reset the code's limit).
                request.session[PENDING_LOGIN_SESSION_KEY] = {
                    "user_id": user.pk,
                    "at": int(time.time()),
                }
                return redirect(url_with_next("accounts:login_code", next_url))
            login_success_record(account=login_account_for_user(user=user))
            return login_finish(request, user=user, next_url=next_url)
        else:
            login_failure_record(request=request, account=account)
    else:
        form = LoginForm(request)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": next_url, "limited_message": limited_message},
        status=status,
    )


@csrf_protect
@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    """The second login step: the code from the authenticator app.

    Serves both a pending login (password checked, not yet logged in) and a
    logged-in user whom a staff page asked to confirm a code in this session.
    """
    next_url = _next_url(request)
    user: User | None
    if request.user.is_authenticated:
        user = request.user
        if is_verified(request):
            return HttpResponseRedirect(next_url)
        if confirmed_device(user) is None:
            return redirect(url_with_next("accounts:otp_setup", next_url))
    else:
        user = _pending_user(request)
        if user is None:
            messages.error(request, _("Please log in again."))
            return redirect(url_with_next("accounts:login", next_url))
    assert user is not None
    account: LoginAccount = login_account_for_user(user=user)
    status, limited_message = 200, ""
    if request.method == "POST":
        form = CodeForm(request.POST)
        refusal = login_refusal(request=request, account=account)
        if refusal is not None:
            form = CodeForm()
            limited_message, status = refusal.message(), 429
        elif form.is_valid():
            try:
                device = totp_verify(user=user, token=form.cleaned_data["code"])
            except ApplicationError as exc:
                login_failure_record(request=request, account=account)
                form.add_error("code", exc.message)
            else:
                if not request.user.is_authenticated:
                    auth_login(request, user, backend=BACKEND)
                otp_login(request, device)
                request.session.pop(PENDING_LOGIN_SESSION_KEY, None)
                login_success_record(account=account)
                return HttpResponseRedirect(next_url)
        else:
            login_failure_record(request=request, account=account)
    else:
        form = CodeForm()
    return render(
        request,
        "accounts/login_code.html",
        {"form": form, "next": next_url, "limited_message": limited_message},
        status=status,
    )


# --- Two-factor enrollment ------------------------------------------------------
def _qr_svg(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )
    return mark_safe(svg)  # noqa: S308 - generated by segno from our own data, no user markup


def _secret_groups(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@csrf_protect
@never_cache
def otp_setup_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next_url(request, default="accounts:otp_setup")
    device = confirmed_device(user)
    if device is not None:
        return render(
            request,
            "accounts/otp_setup.html",
            {
                "enabled": True,
                "form": CodeForm(),
                "required": user_requires_2fa(user),
                "next": next_url,
            },
        )
    form = CodeForm(request.POST) if request.method == "POST" else CodeForm()
    if request.method == "POST" and form.is_valid():
        try:
            device = totp_device_confirm(user=user, token=form.cleaned_data["code"])
        except ApplicationError as exc:
            form.add_error("code" if exc.field == "code" else None, exc.message)
        else:
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is now on."))
            return HttpResponseRedirect(next_url)
    pending = totp_device_start(user=user)
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "enabled": False,
            "form": form,
            "qr_svg": _qr_svg(pending),
            "secret": _secret_groups(pending),
            "required": user_requires_2fa(user),
            "next": next_url,
        },
    )


@login_required
@require_POST
@csrf_protect
def otp_disable_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            totp_device_disable(user=user, token=form.cleaned_data["code"])
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("Two-factor authentication is now off."))
            if user_requires_2fa(user):
                messages.info(
                    request,
                    _("Your role requires two-factor authentication: set up a new device."),
                )
            return redirect("accounts:otp_setup")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "enabled": True,
            "form": form,
            "required": user_requires_2fa(user),
            "next": resolve_url("accounts:otp_setup"),
        },
        status=400,
    )
