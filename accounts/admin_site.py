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

from accounts.otp import privileged_otp_redirect, second_factor_missing
from core.forms import ControlCharacterMixin


class MaklumatAdminSite(admin.AdminSite):
    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Every admin form holds text to the project's rule (core.text), like the site's."""
        admin_class = admin_class or admin.ModelAdmin
        held = {
            attribute: type(form.__name__, (ControlCharacterMixin, form), {})
            for attribute in ("form", "add_form")  # add_form: the user admin's creation form
            if (form := getattr(admin_class, attribute, None)) is not None
            and not issubclass(form, ControlCharacterMixin)
        }
        if held:
            admin_class = type(admin_class.__name__, (admin_class,), held)
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not second_factor_missing(request)

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
