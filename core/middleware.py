from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from core.problems import problem_response
from core.text import CONTROL_CHARACTER_CODE, CONTROL_CHARACTER_MESSAGE, has_control_characters


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


class ApiQueryGuardMiddleware:
    """An API query string with control characters (NUL...) is refused as a whole (400),
    naming the parameters, before any filter or database sees it (core.text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/") and request.GET:
            bad = sorted(
                {
                    key
                    for key, values in request.GET.lists()
                    if any(has_control_characters(text) for text in [key, *values])
                }
            )
            if bad:
                return problem_response(
                    400,
                    CONTROL_CHARACTER_CODE,
                    _("The request has invalid fields."),
                    [
                        {
                            "parameter": name,
                            "detail": str(CONTROL_CHARACTER_MESSAGE),
                            "code": CONTROL_CHARACTER_CODE,
                        }
                        for name in bad
                    ],
                )
        return self.get_response(request)
