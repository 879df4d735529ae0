"""Two-factor authentication (TOTP) rules: who must use it, and the guard for staff views.

Ombudsman reviewers, agency administrators and superusers can change who sees
and decides what, so a stolen password alone must not be enough for them. Superusers
are known here; roles belong to the apps above (agencies), which say which of their
users need a second factor through `register_two_factor_rule` (accounts imports no app
above it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

V = TypeVar("V", bound=Callable[..., HttpResponse])

# Asked in order for a signed-in user who is not a superuser; any True means "required".
_TWO_FACTOR_RULES: list[Callable[[Any], bool]] = []


def register_two_factor_rule(rule: Callable[[Any], bool]) -> None:
    """Let an app above say which of its users must confirm a TOTP code (call it from the
    app's `AppConfig.ready`). Registering the same rule twice keeps one."""
    if rule not in _TWO_FACTOR_RULES:
        _TWO_FACTOR_RULES.append(rule)


def user_requires_2fa(user: Any) -> bool:
    """Must this user confirm a TOTP code on every login?

    Superusers must; so must anyone a registered rule names (agencies registers its
    ombudsman reviewers and agency administrators).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    # Asked by the staff middleware and again by some views: once per request's user.
    cached = getattr(user, "_requires_2fa", None)
    if cached is None:
        cached = any(rule(user) for rule in _TWO_FACTOR_RULES)
        user._requires_2fa = cached
    return bool(cached)


def confirmed_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if any (at most one is kept)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def is_verified(request: HttpRequest) -> bool:
    """Did the user confirm a TOTP code in this session (set by OTPMiddleware)?"""
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def url_with_next(url_name: str, next_url: str) -> str:
    """The URL of `url_name`, coming back to `next_url` afterwards."""
    return f"{resolve_url(url_name)}?{urlencode({'next': next_url})}"


def second_factor_missing(request: HttpRequest) -> bool:
    """The rule: a privileged user whose session has not confirmed a TOTP code."""
    return not is_verified(request) and user_requires_2fa(request.user)  # the free check first


def privileged_otp_redirect(
    request: HttpRequest, next_url: str | None = None
) -> HttpResponse | None:
    """Where a privileged user who has not passed two-factor must go first, or None if fine.

    Anonymous users are sent to the login page. Afterwards they come back to `next_url`
    (default: the requested page).
    """
    next_url = next_url or request.get_full_path()
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    if not second_factor_missing(request):
        return None
    if confirmed_device(request.user) is None:
        return redirect(url_with_next("accounts:otp_setup", next_url))
    return redirect(url_with_next("accounts:login_code", next_url))


def otp_required_for_privileged(view: V) -> V:
    """Decorator for staff views: log in first; privileged users must also have passed 2FA.

    A privileged user without a confirmed device goes to the enrollment page; one
    with a device who has not entered a code in this session goes to the code step.
    Both come back to the original page afterwards. Implies `login_required`.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = privileged_otp_redirect(request)
        if response is not None:
            return response
        return view(request, *args, **kwargs)

    return cast(V, wrapped)


class OTPRequiredForPrivilegedMixin:
    """The same guard for class-based views (put it first in the bases)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = privileged_otp_redirect(request)
        if response is not None:
            return response
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
