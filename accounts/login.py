"""The end of a successful sign-in, shared by the login pages and the invitation page
(agencies), which signs a new member in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.otp import url_with_next, user_requires_2fa

BACKEND = "accounts.backends.UsernameOrEmailBackend"


def login_finish(request: HttpRequest, *, user: User, next_url: str) -> HttpResponse:
    """Password accepted and no code needed: log in, and send privileged users to enroll."""
    auth_login(request, user, backend=BACKEND)
    if user_requires_2fa(user):
        messages.info(request, _("Your role requires two-factor authentication: set it up now."))
        return redirect(url_with_next("accounts:otp_setup", next_url))
    return HttpResponseRedirect(next_url)
