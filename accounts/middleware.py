"""The one gate of the second factor: staff pages, the admin and the API all pass here."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from accounts.otp import privileged_otp_redirect, second_factor_missing
from core.problems import problem_response

# Where a privileged session must have passed two-factor (with or without the English
# prefix of i18n_patterns). The API has no language prefix.
PAGE_PREFIXES = ("/staff/", "/en/staff/", "/admin/", "/en/admin/")
API_PREFIX = "/api/"
# The API's description is public reading, whoever asks.
API_OPEN_PATHS = ("/api/v1/schema/", "/api/v1/docs/")


class TwoFactorMiddleware:
    """A superuser, ombudsman reviewer or agency admin who signed in with a password only
    reaches no staff page, no admin page and no API operation until a TOTP code is
    confirmed in the session: pages send them to the code step (or enrolment), the API
    answers 403 `second_factor_required`. Whatever decorator a view has, and whatever
    authentication class an API view lists, this runs first.

    Machine clients (agency API keys) carry no session and are limited to an editor's
    powers (agencies.api_keys), so no second factor applies to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if request.user.is_authenticated:
            if path.startswith(API_PREFIX) and not path.startswith(API_OPEN_PATHS):
                if second_factor_missing(request):
                    return problem_response(
                        403,
                        "second_factor_required",
                        _(
                            "Your role requires two-factor authentication: confirm your code "
                            "in the staff area, then try again."
                        ),
                    )
            elif path.startswith(PAGE_PREFIXES):
                response = privileged_otp_redirect(request)
                if response is not None:
                    return response
        return self.get_response(request)
