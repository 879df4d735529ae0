from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults as django_defaults
from django.views.decorators.cache import never_cache

from core.health import run_checks
from core.problems import problem_response


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    status, checks = run_checks()
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
    )


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "429.html", status=429)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        # The API answers its one error shape even where no API view matched the path.
        return problem_response(404, "not_found", _("Not found."))
    return django_defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(500, "server_error", _("Something went wrong on our side."))
    return render(request, "500.html", status=500)
