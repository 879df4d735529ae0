from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class ApiLanguageMiddleware:
    """The API speaks the client's language (Accept-Language, else Indonesian).

    Under `i18n_patterns` with an unprefixed default language, LocaleMiddleware gives every
    unprefixed path the default language; API clients have no URL prefix to choose with.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """Every staff page asks what the staff area's login promises: a superuser, ombudsman
    reviewer or agency admin must have confirmed a TOTP code in this session (or enrol
    first), whichever view the path leads to. Anonymous visitors are left to the views,
    which send them to log in."""

    PREFIXES = ("/staff/", "/en/staff/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self.PREFIXES) and request.user.is_authenticated:
            from accounts.otp import privileged_otp_redirect

            response = privileged_otp_redirect(request)
            if response is not None:
                return response
        return self.get_response(request)
