"""The survey's public pages: the questionnaire after a request (from its tracking page),
the unit's open questionnaire (the QR code on its poster points here), and the results of a
unit or one of its services, period by period.

Ballot stuffing: a request answers once (the database holds it); the open survey answers
once per device and period (a signed cookie, stored only as a keyed hash), every POST is
rate-limited per client address, and a honeypot field catches form-filling bots. Open-survey
responses are counted and shown apart from those after a request.
"""

from __future__ import annotations

import re
import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import is_ratelimited

from agencies.models import Unit
from core.errors import ApplicationError
from delivery.models import TRACKING_ALPHABET, DeliveryStatus
from delivery.selectors import delivery_get_by_tracking_code
from feedback.forms import SurveyForm
from feedback.models import SurveyChannel, SurveyResponse
from feedback.periods import PERIOD_PATTERN, period_of
from feedback.reports import grade_label, period_dates, sample_text, skm_report_pdf
from feedback.selectors import SkmReport, skm_periods, skm_report, survey_answered
from feedback.services import device_key, survey_response_submit
from services.models import Service
from services.selectors import service_list_public

# Answers per client address: a family or a queue sharing one connection, not a script.
SURVEY_RATE = "10/h"
SURVEY_GROUP = "feedback.survey"
DEVICE_COOKIE = "skm_device"
DEVICE_SALT = "feedback.survey.device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 60 * 60
CODE_PATTERN = re.compile(f"^[{TRACKING_ALPHABET}]{{6,12}}$")


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unit(agency_slug: str, unit_slug: str) -> Unit:
    return get_object_or_404(
        Unit.objects.select_related("agency"),
        agency__slug=agency_slug,
        slug=unit_slug,
        is_active=True,
    )


def _results_url(unit: Unit) -> str:
    return reverse(
        "feedback:unit_results", kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug}
    )


def _limited(request: HttpRequest) -> bool:
    return is_ratelimited(
        request, group=SURVEY_GROUP, key="ip", rate=SURVEY_RATE, method="POST", increment=True
    )


def _thanks(request: HttpRequest, unit: Unit) -> HttpResponseRedirect:
    messages.success(request, gettext("Thank you for answering the survey."))
    return HttpResponseRedirect(_results_url(unit))


@require_http_methods(["GET", "POST"])
@never_cache
def survey_after_request(request: HttpRequest, code: str) -> HttpResponse:
    """The questionnaire for one completed request, reached from its tracking page."""
    if not CODE_PATTERN.match(code):
        raise Http404
    delivery = delivery_get_by_tracking_code(code)
    if delivery is None:
        raise Http404
    context = {"delivery": delivery, "unit": delivery.unit, "service": delivery.service}
    if delivery.status != DeliveryStatus.COMPLETED:
        return _private(render(request, "feedback/survey_not_yet.html", context, status=409))
    if survey_answered(delivery=delivery):
        return _private(render(request, "feedback/survey_answered.html", context))
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if _limited(request):
            return _private(render(request, "429.html", status=429))
        if form.is_bot():
            return _thanks(request, delivery.unit)
        if form.is_valid():
            try:
                survey_response_submit(
                    unit=delivery.unit,
                    delivery=delivery,
                    channel=SurveyChannel.AFTER_REQUEST,
                    scores=form.scores(),
                    profile=form.profile(),
                    suggestion=form.cleaned_data["suggestion"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return _thanks(request, delivery.unit)
    status = 400 if form.is_bound else 200
    return _private(
        render(
            request,
            "feedback/survey_form.html",
            {**context, "form": form, "action": request.path},
            status=status,
        )
    )


def _device_token(request: HttpRequest) -> str | None:
    token = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_SALT)
    return token if isinstance(token, str) and token else None


@require_http_methods(["GET", "POST"])
@never_cache
def survey_open(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    """The unit's open questionnaire: anyone it served may answer, once per device and period."""
    unit = _unit(agency_slug, unit_slug)
    services = list(service_list_public().filter(unit=unit))
    token = _device_token(request)
    form = SurveyForm(request.POST if request.method == "POST" else None, services=services)
    answered = token is not None and (
        SurveyResponse.objects.filter(
            unit=unit,
            channel=SurveyChannel.OPEN,
            period=period_of(timezone.localdate()),
            device=device_key(token),
        ).exists()
    )
    context = {"unit": unit, "service": None, "form": form, "action": request.path}
    if answered:
        response = render(request, "feedback/survey_answered.html", context)
    elif request.method == "POST":
        if _limited(request):
            return render(request, "429.html", status=429)
        if form.is_bot():
            return _thanks(request, unit)
        if token is None:
            # The cookie is set with the form: a POST without it comes from no form of ours
            # (or a browser that refuses cookies, which could answer without limit).
            form.add_error(
                None,
                gettext("Your browser must accept cookies to answer this survey. Try again."),
            )
        elif form.is_valid():
            service_id = form.cleaned_data.get("service")
            try:
                survey_response_submit(
                    unit=unit,
                    service=next((s for s in services if s.pk == service_id), None),
                    channel=SurveyChannel.OPEN,
                    device=device_key(token),
                    scores=form.scores(),
                    profile=form.profile(),
                    suggestion=form.cleaned_data["suggestion"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return _thanks(request, unit)
        response = render(request, "feedback/survey_form.html", context, status=400)
    else:
        response = render(request, "feedback/survey_form.html", context)
    if token is None:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(24),
            salt=DEVICE_SALT,
            max_age=DEVICE_COOKIE_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response


def _results(request: HttpRequest, unit: Unit, service: Service | None) -> HttpResponse:
    periods = skm_periods(unit=unit, service=service)
    surveyed_services = (
        list(
            Service.objects.filter(unit=unit, survey_responses__isnull=False)
            .distinct()
            .order_by("name")
            .only("pk", "name", "slug")
        )
        if service is None
        else []
    )
    return render(
        request,
        "feedback/results.html",
        {
            "unit": unit,
            "agency": unit.agency,
            "service": service,
            "periods": periods,
            "latest": periods[-1] if periods else None,
            "trend": list(reversed(periods)),
            "surveyed_services": surveyed_services,
        },
    )


@require_safe
def skm_unit_results(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    return _results(request, _unit(agency_slug, unit_slug), None)


@require_safe
def skm_service_results(
    request: HttpRequest, agency_slug: str, unit_slug: str, service_slug: str
) -> HttpResponse:
    unit = _unit(agency_slug, unit_slug)
    service = get_object_or_404(Service, unit=unit, slug=service_slug)
    return _results(request, unit, service)


def _report(agency_slug: str, unit_slug: str, period: str) -> SkmReport:
    # The URL takes any text: anything but a period ("2026-Q4") is no page, not an error.
    if not PERIOD_PATTERN.match(period):
        raise Http404
    return skm_report(unit=_unit(agency_slug, unit_slug), period=period)


def _report_pdf_url(request: HttpRequest, report: SkmReport) -> str:
    return request.build_absolute_uri(
        reverse(
            "feedback:unit_report",
            kwargs={
                "agency_slug": report.unit.agency.slug,
                "unit_slug": report.unit.slug,
                "period": report.period,
            },
        )
    )


@require_safe
def skm_unit_report(
    request: HttpRequest, agency_slug: str, unit_slug: str, period: str
) -> HttpResponse:
    """The unit's printable SKM report for one period (print CSS; the PDF is linked)."""
    report = _report(agency_slug, unit_slug, period)
    result = report.figures.result if report.figures else None
    return render(
        request,
        "feedback/report.html",
        {
            "report": report,
            "unit": report.unit,
            "agency": report.unit.agency,
            "figures": report.figures,
            "result": result,
            "grade_label": grade_label(result.grade) if result else "",
            "period_dates": period_dates(report),
            "sample_text": sample_text(report),
        },
    )


@require_safe
def skm_unit_report_pdf(
    request: HttpRequest, agency_slug: str, unit_slug: str, period: str
) -> HttpResponse:
    report = _report(agency_slug, unit_slug, period)
    pdf = skm_report_pdf(report=report, url=_report_pdf_url(request, report))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"skm-{report.unit.agency.slug}-{report.unit.slug}-{report.period}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
