from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
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


class SecurityHeadersMiddleware:
    """The security headers Django and django-csp do not set, and the private-caching rule.

    Permissions-Policy: no page uses a powerful browser feature, so every one is denied
    (and to any frame, though none may frame us).

    Cross-Origin-Resource-Policy: same-origin. Others use our public material by linking to
    it (a poster's URL, the QR code printed on it, the public pages) or by fetching the open
    data from their servers: neither is a cross-origin subresource load, which is all this
    header governs. Letting other sites embed our images, styles, scripts or PDFs as
    subresources would only serve hotlinking, and `same-site` would extend that to every
    sibling subdomain of a shared government domain.

    Cache-Control: staff, admin and account pages, and every API answer to a signed-in or
    token-bearing client, are that person's business: `private, no-store`, so no shared
    cache, browser cache or back button keeps them. Public pages keep their own caching.
    """

    PERMISSIONS_POLICY = ", ".join(
        f"{feature}=()"
        for feature in (
            "accelerometer",
            "autoplay",
            "camera",
            "display-capture",
            "encrypted-media",
            "fullscreen",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "picture-in-picture",
            "publickey-credentials-get",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    )
    PRIVATE_SECTIONS = ("staff", "admin", "accounts")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        languages = [""] + [
            f"/{code}" for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
        ]
        self.private_prefixes = tuple(
            f"{language}/{section}/" for language in languages for section in self.PRIVATE_SECTIONS
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if self._is_private(request):
            patch_cache_control(response, private=True, no_store=True)
        return response

    def _is_private(self, request: HttpRequest) -> bool:
        path = request.path_info
        if path.startswith(self.private_prefixes):
            return True
        if path.startswith("/api/"):
            # DRF copies a token-authenticated user onto the request it was given.
            user = getattr(request, "user", None)
            return "HTTP_AUTHORIZATION" in request.META or bool(user and user.is_authenticated)
        return False
