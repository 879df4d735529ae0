"""The public tracking page: a citizen with a tracking code sees the status and due date of
their request, and nothing personal (no agency reference, no fee, no names)."""

from __future__ import annotations

import re

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_ratelimit.core import is_ratelimited

from delivery.models import TRACKING_ALPHABET, DeliveryStatus, ServiceDelivery
from delivery.selectors import delivery_get_by_tracking_code
from services.models import TimeUnit

# Lookups per client address: enough for a family checking a few requests, far too few to
# enumerate codes (31^10 of them).
TRACK_RATE = "30/m"
TRACK_GROUP = "delivery.track"
CODE_PATTERN = re.compile(f"^[{TRACKING_ALPHABET}]{{6,12}}$")


def normalise_code(raw: str) -> str:
    """Codes are read over the phone and copied from paper: ignore case, spaces and dashes."""
    return re.sub(r"[\s\-.]", "", raw).upper()


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=40,
        help_text=_("The code on your receipt, for example K7PX-94QM-RT."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not CODE_PATTERN.match(code):
            raise forms.ValidationError(
                _("This is not a tracking code. Check the code on your receipt."),
                code="invalid",
            )
        return code


def _private(response: HttpResponse) -> HttpResponse:
    # A tracking page is one citizen's business: keep it out of search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
@never_cache
def track_form(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        return HttpResponseRedirect(
            reverse("track:detail", kwargs={"code": form.cleaned_data["code"]})
        )
    return _private(render(request, "delivery/public/track_form.html", {"form": form}))


def _not_found(request: HttpRequest, code: str) -> HttpResponse:
    form = TrackForm(initial={"code": code})
    return _private(
        render(request, "delivery/public/track_not_found.html", {"form": form}, status=404)
    )


def _time_taken_unit_is_days(delivery: ServiceDelivery) -> bool:
    return delivery.promise_unit in (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS)


@require_safe
@never_cache
def track_detail(request: HttpRequest, code: str) -> HttpResponse:
    if is_ratelimited(request, group=TRACK_GROUP, key="ip", rate=TRACK_RATE, increment=True):
        return _private(render(request, "429.html", status=429))
    normalised = normalise_code(code)
    if not CODE_PATTERN.match(normalised):
        return _not_found(request, "")
    if normalised != code:
        return HttpResponseRedirect(reverse("track:detail", kwargs={"code": normalised}))
    delivery = delivery_get_by_tracking_code(normalised)
    if delivery is None:
        return _not_found(request, normalised)
    return _private(
        render(
            request,
            "delivery/public/track_detail.html",
            {
                "delivery": delivery,
                "service": delivery.service,
                "on_time": delivery.is_on_time,
                "by_days": _time_taken_unit_is_days(delivery),
                "clock_started_later": delivery.clock_start_date is not None
                and delivery.clock_start_date != timezone.localdate(delivery.submitted_at),
                "overdue": delivery.status == DeliveryStatus.OPEN
                and delivery.due_at is not None
                and delivery.due_at < timezone.now(),
            },
        )
    )
