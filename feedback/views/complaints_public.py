"""The complaint pages anyone reaches (mounted at complaints/, namespace `complaints`): the
form per service and per request (no login), the citizen's status page by tracking code
(answer a question, reopen once with a reason, ask for the ombudsman), the email
confirmation and forget links, and the public figures per unit and service.

Spam guard, with no third-party service: every POST is rate-limited per client address and
per browser session (a signed cookie set with the form), a honeypot field catches bots
that fill every field, and a signed start time refuses a form sent faster than a person
can fill it. Each refusal says why, in the citizen's language.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from agencies.models import Unit
from core.errors import ApplicationError
from delivery.models import TRACKING_ALPHABET, ServiceDelivery
from delivery.selectors import delivery_get_by_tracking_code
from feedback.complaints import cases as complaint_cases
from feedback.complaints import services
from feedback.complaints.forms import (
    AddInfoForm,
    ComplaintForm,
    FindForm,
    FindingsResponseForm,
    ReasonForm,
)
from feedback.complaints.models import Complaint
from feedback.complaints.notices import read_email_token
from feedback.complaints.selectors import (
    complaint_figures,
    complaint_for_citizen,
    public_complaints,
)
from feedback.complaints.states import CITIZEN_STEPS, ComplaintStatus
from services.models import Service
from services.selectors import services_published

# Complaints per client address, and per browser session: a family or a queue sharing
# one connection, not a script.
IP_RATE = "10/h"
SESSION_RATE = "3/h"
STATUS_RATE = "60/h"
GROUP = "feedback.complaint"
SESSION_COOKIE = "complaint_session"
SESSION_SALT = "feedback.complaint.session"
STARTED_SALT = "feedback.complaint.started"
# A person needs longer than this to fill the form; a script does not.
MIN_FILL_SECONDS = 5
MAX_FILL_SECONDS = 24 * 3600
CODE_PATTERN = re.compile(f"^[{TRACKING_ALPHABET}]{{12}}$")
DELIVERY_CODE = re.compile(f"^[{TRACKING_ALPHABET}]{{6,12}}$")


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def started_token(at: float | None = None) -> str:
    """The signed moment the form was shown (tests pass an earlier one)."""
    return signing.dumps(int(at if at is not None else time.time()), salt=STARTED_SALT)


def _filled_too_fast(token: str) -> bool:
    try:
        started = signing.loads(token, salt=STARTED_SALT, max_age=MAX_FILL_SECONDS)
    except signing.BadSignature:
        return True
    return not isinstance(started, int) or time.time() - started < MIN_FILL_SECONDS


def _session_key(group: str, request: HttpRequest) -> str:
    token = request.get_signed_cookie(SESSION_COOKIE, default="", salt=SESSION_SALT)
    return str(token)


def _limited(request: HttpRequest) -> bool:
    by_ip = is_ratelimited(
        request, group=GROUP, key="ip", rate=IP_RATE, method="POST", increment=True
    )
    by_session = is_ratelimited(
        request,
        group=f"{GROUP}.session",
        key=_session_key,
        rate=SESSION_RATE,
        method="POST",
        increment=True,
    )
    return by_ip or by_session


def _limited_page(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "feedback/complaints/limited.html", status=429))


def _form_page(
    request: HttpRequest,
    *,
    unit: Unit,
    service: Service | None,
    delivery: ServiceDelivery | None,
) -> HttpResponse:
    has_session = bool(_session_key(GROUP, request))
    initial: dict[str, Any] = {"started": started_token()}
    if delivery is not None:
        moment = delivery.completed_at or delivery.submitted_at
        initial["occurred_on"] = timezone.localdate(moment) if moment else None
    if request.method == "POST":
        if _limited(request):
            return _limited_page(request)
        form = ComplaintForm(request.POST, request.FILES, initial=initial)
        if form.is_bot():
            # Look like success to a bot, record nothing.
            return HttpResponseRedirect(reverse("complaints:find"))
        valid = form.is_valid()
        if not has_session:
            form.add_error(
                None, gettext("Your browser must accept cookies to send a complaint. Try again.")
            )
        elif _filled_too_fast(request.POST.get("started", "")):
            form.add_error(
                None,
                gettext(
                    "That was faster than a person can fill this form. Check your complaint "
                    "and send it again."
                ),
            )
        elif valid:
            data = form.cleaned_data
            try:
                complaint = services.complaint_submit(
                    category=data["category"],
                    occurred_on=data["occurred_on"],
                    description=data["description"],
                    unit=unit,
                    service=service,
                    delivery=delivery,
                    location=data["location"],
                    anonymous=data["anonymous"],
                    confidential=data["confidential"],
                    contact=services.Contact(
                        name=data["contact_name"],
                        email=data["contact_email"],
                        phone=data["contact_phone"],
                    ),
                    files=[services.Upload(f, f.size) for f in data["evidence"]],
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(
                    request,
                    gettext("Your complaint was received. Keep its tracking code: %(code)s")
                    % {"code": complaint.tracking_code},
                )
                return HttpResponseRedirect(
                    reverse("complaints:status", kwargs={"code": complaint.tracking_code})
                )
        # A fresh start time: the next attempt is timed from now.
        data = request.POST.copy()
        data["started"] = started_token()
        form.data = data
        status = 400
    else:
        form = ComplaintForm(initial=initial)
        status = 200
    response = render(
        request,
        "feedback/complaints/form.html",
        {"form": form, "unit": unit, "service": service, "delivery": delivery},
        status=status,
    )
    if not has_session:
        response.set_signed_cookie(
            SESSION_COOKIE,
            secrets.token_urlsafe(24),
            salt=SESSION_SALT,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return _private(response)


@require_http_methods(["GET", "POST"])
@never_cache
def complaint_service(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    service = get_object_or_404(
        services_published().select_related("agency", "unit__agency"),
        agency__slug=agency_slug,
        slug=slug,
    )
    return _form_page(request, unit=service.unit, service=service, delivery=None)


@require_http_methods(["GET", "POST"])
@never_cache
def complaint_request(request: HttpRequest, code: str) -> HttpResponse:
    if not DELIVERY_CODE.match(code):
        raise Http404
    delivery = delivery_get_by_tracking_code(code)
    if delivery is None:
        raise Http404
    return _form_page(request, unit=delivery.unit, service=delivery.service, delivery=delivery)


def _complaint_or_404(code: str) -> Complaint:
    code = code.upper()
    if not CODE_PATTERN.match(code):
        raise Http404
    complaint = complaint_for_citizen(code)
    if complaint is None:
        raise Http404
    return complaint


def _status_limited(request: HttpRequest) -> bool:
    # Guessing codes costs a request each: the lookups are limited per address too.
    return is_ratelimited(
        request, group=f"{GROUP}.status", key="ip", rate=STATUS_RATE, method="ALL", increment=True
    )


def _status(
    request: HttpRequest,
    complaint: Complaint,
    *,
    reason_form: ReasonForm | None = None,
    info_form: AddInfoForm | None = None,
    findings_form: FindingsResponseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    draft = complaint_cases.draft_for_complainant(complaint)
    steps = [(value, label) for value, label in ComplaintStatus.choices if value in CITIZEN_STEPS]
    reached = {e.to_status for e in complaint.events.all()}
    return _private(
        render(
            request,
            "feedback/complaints/status.html",
            {
                "complaint": complaint,
                "steps": [(value, label, value in reached) for value, label in steps],
                "events": [
                    e for e in complaint.events.all() if e.is_public or e.action == "submit"
                ],
                "may_reopen": complaint.reopened_at is None
                and complaint.status in (ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED),
                "needs_info": complaint.status == ComplaintStatus.NEEDS_INFO,
                "may_ask_ombudsman": complaint.ombudsman_requested_at is None
                and (
                    complaint.reopened_at is not None
                    or complaint.status == ComplaintStatus.CLOSED
                    or (
                        complaint.verify_due_at is not None
                        and complaint.verify_done_at is None
                        and complaint.verify_due_at < timezone.now()
                    )
                    or (
                        complaint.answer_due_at is not None
                        and complaint.first_answered_at is None
                        and complaint.answer_due_at < timezone.now()
                    )
                ),
                "reason_form": reason_form or ReasonForm(),
                "info_form": info_form or AddInfoForm(),
                "draft": draft,
                "may_respond_draft": complaint_cases.may_respond(draft),
                "findings_form": findings_form or FindingsResponseForm(),
            },
            status=status,
        )
    )


@require_http_methods(["GET", "POST"])
@never_cache
def complaint_find(request: HttpRequest) -> HttpResponse:
    form = FindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].strip().upper()
        return HttpResponseRedirect(reverse("complaints:status", kwargs={"code": code}))
    return _private(render(request, "feedback/complaints/find.html", {"form": form}))


@require_safe
@never_cache
def complaint_status(request: HttpRequest, code: str) -> HttpResponse:
    if _status_limited(request):
        return _limited_page(request)
    return _status(request, _complaint_or_404(code))


def _back(complaint: Complaint) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("complaints:status", kwargs={"code": complaint.tracking_code})
    )


@require_POST
def complaint_reopen(request: HttpRequest, code: str) -> HttpResponse:
    if _status_limited(request):
        return _limited_page(request)
    complaint = _complaint_or_404(code)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.complaint_reopen(complaint=complaint, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, gettext("Your complaint was reopened. The unit sees your reason.")
            )
            return _back(complaint)
    return _status(request, complaint, reason_form=form, status=400)


@require_POST
def complaint_add_info(request: HttpRequest, code: str) -> HttpResponse:
    if _status_limited(request):
        return _limited_page(request)
    complaint = _complaint_or_404(code)
    form = AddInfoForm(request.POST)
    if form.is_valid():
        try:
            services.complaint_add_info(complaint=complaint, text=form.cleaned_data["text"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, gettext("Thank you: your answer was sent to the handlers."))
            return _back(complaint)
    return _status(request, complaint, info_form=form, status=400)


@require_POST
def complaint_ask_ombudsman(request: HttpRequest, code: str) -> HttpResponse:
    if _status_limited(request):
        return _limited_page(request)
    complaint = _complaint_or_404(code)
    services.complaint_escalate(complaint=complaint, actor=None)
    messages.success(request, gettext("Your complaint was sent to the ombudsman's desk."))
    return _back(complaint)


@require_POST
def complaint_respond_findings(request: HttpRequest, code: str) -> HttpResponse:
    """The complainant's response to the ombudsman's draft findings of their case."""
    if _status_limited(request):
        return _limited_page(request)
    complaint = _complaint_or_404(code)
    form = FindingsResponseForm(request.POST)
    if form.is_valid():
        try:
            complaint_cases.complaint_respond_findings(
                complaint=complaint, text=form.cleaned_data["text"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, gettext("Thank you: the ombudsman received your response."))
            return _back(complaint)
    return _status(request, complaint, findings_form=form, status=400)


def _token_complaint(token: str) -> tuple[Complaint, str]:
    found = read_email_token(token)
    if found is None:
        raise Http404
    complaint = Complaint.objects.filter(pk=found[0], contact_email__iexact=found[1]).first()
    if complaint is None:
        raise Http404
    return complaint, found[1]


@require_http_methods(["GET", "POST"])
@never_cache
def complaint_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST confirms."""
    complaint, email = _token_complaint(token)
    if request.method == "POST":
        services.complaint_confirm_email(complaint=complaint, email=email)
        messages.success(request, gettext("Your email address is confirmed."))
        return _back(complaint)
    return _private(
        render(
            request, "feedback/complaints/confirm.html", {"complaint": complaint, "forget": False}
        )
    )


@require_http_methods(["GET", "POST"])
@never_cache
def complaint_forget(request: HttpRequest, token: str) -> HttpResponse:
    complaint, email = _token_complaint(token)
    if request.method == "POST":
        services.complaint_forget_email(complaint=complaint, email=email)
        return _private(render(request, "feedback/complaints/forgotten.html", {}))
    return _private(
        render(
            request, "feedback/complaints/confirm.html", {"complaint": complaint, "forget": True}
        )
    )


@require_safe
def complaint_unit_figures(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    unit = get_object_or_404(
        Unit.objects.select_related("agency"),
        agency__slug=agency_slug,
        slug=unit_slug,
        is_active=True,
    )
    return render(
        request,
        "feedback/complaints/figures.html",
        {
            "unit": unit,
            "service": None,
            "figures": complaint_figures(unit=unit),
            "shown": public_complaints(unit=unit),
        },
    )


@require_safe
def complaint_service_figures(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    service = get_object_or_404(
        services_published().select_related("agency", "unit__agency"),
        agency__slug=agency_slug,
        slug=slug,
    )
    return render(
        request,
        "feedback/complaints/figures.html",
        {
            "unit": service.unit,
            "service": service,
            "figures": complaint_figures(service=service),
            "shown": public_complaints(service=service),
        },
    )
