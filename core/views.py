from __future__ import annotations

import hmac
import sys

from csp.decorators import csp_update
from django import db
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults as django_defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited
from drf_spectacular.views import SpectacularRedocView

from core import csp
from core.health import run_checks
from core.problems import problem_response
from core.storage import STORAGE_MESSAGE, is_storage_error


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


# How long a client is asked to wait when the database cannot be reached.
UNAVAILABLE_RETRY_AFTER = "30"


def _database_unavailable() -> bool:
    """Whether the error being handled is the database being out of reach (a restart,
    a failover, a network cut): Django's connection errors, not a bad query."""
    exc = sys.exc_info()[1]
    return isinstance(exc, db.OperationalError | db.InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called inside Django's `except`, so the exception is at hand. A database
    that cannot be reached is a 503 with Retry-After (the connection is checked again on the
    next request: CONN_HEALTH_CHECKS), never a stack trace."""
    if _database_unavailable():
        if _is_api(request):
            return problem_response(
                503,
                "database_unavailable",
                _("The service is temporarily unavailable; try again in a minute."),
                headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
            )
        response = render(request, "503.html", status=503)
        response["Retry-After"] = UNAVAILABLE_RETRY_AFTER
        return response
    if is_storage_error(sys.exc_info()[1]):
        # An upload the view did not turn into a form error: still say what happened.
        if _is_api(request):
            return problem_response(503, "storage_unavailable", str(STORAGE_MESSAGE))
        return render(request, "503.html", {"storage": True}, status=503)
    if _is_api(request):
        return problem_response(500, "server_error", _("Something went wrong on our side."))
    return render(request, "500.html", status=500)


# The API reference: ReDoc, from the bundle drf-spectacular-sidecar ships. It styles itself
# at run time, in <style> elements it creates empty and fills through the CSSOM
# (styled-components), plus one it fills with its scrollbar stylesheet as the bundle loads
# (style-loader). This page alone allows exactly those two contents by hash, the empty string
# and that stylesheet, and data: images (its inline icons). A nonce cannot serve: ReDoc reads
# it from an attribute browsers hide from scripts, and the stylesheet comes before ReDoc could
# be given one. Search is off in the template: it runs in a worker made from a blob: URL.
# If an update of the bundle changes its stylesheet, tests/e2e/test_csp.py fails and
# Chromium's console message names the new hash. The one refusal left, Redocly's logo from
# their CDN, is expected (core.csp.EXPECTED_VIOLATIONS).
REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # ""
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's CSS
]
api_docs = csp_update({"style-src": REDOC_STYLE_HASHES, "img-src": ["data:"]})(
    SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
)


# Browsers send violation reports without cookies or a CSRF token.
@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Where browsers report what the Content-Security-Policy refused: one log line each."""
    if is_ratelimited(request, group="csp-report", key="ip", rate=csp.REPORT_RATE, increment=True):
        return HttpResponse(status=429)
    content_type = request.content_type
    if content_type not in (*csp.LEGACY_TYPES, csp.REPORTING_API_TYPE):
        return HttpResponse(status=415)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > csp.REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    # Read at most one byte past the limit, whatever the header said.
    body = request.read(csp.REPORT_MAX_BYTES + 1)
    if len(body) > csp.REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        violations = csp.csp_reports_parse(body=body, content_type=content_type)
    except csp.InvalidReport:
        return HttpResponse(status=400)
    csp.csp_violations_log(violations)
    return HttpResponse(status=204)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (core/metrics.py), for a scraper holding METRICS_TOKEN only."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from prometheus_client import CONTENT_TYPE_LATEST

    from core.metrics import exposition

    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
