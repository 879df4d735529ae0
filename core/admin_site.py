"""The Django admin, behind the same door as the staff area.

The admin can change who sees and decides what, so it asks what the staff area asks:
sign in through the project's login (rate-limited), and, for superusers, ombudsman
reviewers and agency administrators, a TOTP code confirmed in this session. The admin's
own password form is never shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.otp import is_verified, privileged_otp_redirect, user_requires_2fa


class MaklumatAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return is_verified(request) or not user_requires_2fa(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url, login_url=reverse("accounts:login"))
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        # Signed in but not past two-factor: to the code step (or enrolment), then back.
        response: HttpResponse | None = privileged_otp_redirect(request, next_url)
        return response or redirect(next_url)
