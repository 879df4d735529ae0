"""The public tracking page: a citizen with a tracking code sees the status and due date of
their request, and nothing personal (no agency reference, no fee, no names).

The citizen may also leave an email address to be told when the office answers a breach
about the request; the address is never shown on any page (oversight.CitizenFollower).
Double opt-in: nothing but a confirmation email is sent to the address until its owner
opens the signed link in it and confirms (`track_confirm`).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from core.errors import ApplicationError
from core.forms import Form
from delivery.models import TRACKING_ALPHABET, DeliveryStatus, ServiceDelivery
from delivery.selectors import delivery_get_by_tracking_code
from oversight.followers import citizen_follow, citizen_follow_confirm, citizen_unfollow
from oversight.models import follower_for_confirmation_token, follower_for_signed_token
from services.models import TimeUnit

# Lookups per client address: enough for a family checking a few requests, far too few to
# enumerate codes (31^10 of them).
TRACK_RATE = "30/m"
TRACK_GROUP = "delivery.track"
CODE_PATTERN = re.compile(f"^[{TRACKING_ALPHABET}]{{6,12}}$")
# Follow requests per client address: a few addresses for a few requests.
FOLLOW_RATE = "10/h"
FOLLOW_GROUP = "delivery.follow"


def normalise_code(raw: str) -> str:
    """Codes are read over the phone and copied from paper: ignore case, spaces and dashes."""
    return re.sub(r"[\s\-.]", "", raw).upper()


class TrackForm(Form):
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
    return _private(render(request, "public/track/form.html", {"form": form}))


class FollowForm(Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_(
            "We write to you only about this request, and never show your address to "
            "anyone. Every email has a link to stop them."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def _not_found(request: HttpRequest, code: str) -> HttpResponse:
    form = TrackForm(initial={"code": code})
    return _private(render(request, "public/track/not_found.html", {"form": form}, status=404))


def _time_taken_unit_is_days(delivery: ServiceDelivery) -> bool:
    return delivery.promise_unit in (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS)


def _detail(
    request: HttpRequest,
    delivery: ServiceDelivery,
    *,
    follow_form: FollowForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return _private(
        render(
            request,
            "public/track/detail.html",
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
                "follow_form": follow_form or FollowForm(),
            },
            status=status,
        )
    )


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
    return _detail(request, delivery)


@require_POST
@never_cache
def track_follow(request: HttpRequest, code: str) -> HttpResponse:
    """Leave an email address to hear when the office answers about this request."""
    if is_ratelimited(request, group=FOLLOW_GROUP, key="ip", rate=FOLLOW_RATE, increment=True):
        return _private(render(request, "429.html", status=429))
    normalised = normalise_code(code)
    delivery = delivery_get_by_tracking_code(normalised) if CODE_PATTERN.match(normalised) else None
    if delivery is None:
        return _not_found(request, normalised if CODE_PATTERN.match(normalised) else "")
    form = FollowForm(request.POST)
    if not form.is_valid():
        return _detail(request, delivery, follow_form=form, status=400)
    try:
        citizen_follow(delivery=delivery, email=form.cleaned_data["email"])
    except ApplicationError as exc:
        form.add_error("email" if exc.field == "email" else None, exc.message)
        return _detail(request, delivery, follow_form=form, status=400)
    # The same words whether the address is new, waiting for its confirmation or already
    # confirmed, and whether or not an email was sent now: nothing to learn here.
    messages.success(
        request,
        gettext(
            "Thank you. Check your email to confirm your address: only then will we email "
            "you when the office answers about this request."
        ),
    )
    return HttpResponseRedirect(
        reverse("track:detail", kwargs={"code": delivery.tracking_code}) + "#follow"
    )


@require_http_methods(["GET", "POST"])
@never_cache
def track_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every email to a following citizen: GET asks, POST stops the emails."""
    follower, valid = follower_for_signed_token(token)
    if not valid:
        return _private(
            render(request, "public/track/unsubscribe.html", {"invalid": True}, status=400)
        )
    done = follower is None  # a valid link whose address is already forgotten
    service = follower.delivery.service if follower is not None else None
    if request.method == "POST" and follower is not None:
        citizen_unfollow(follower=follower)
        done = True
    return _private(
        render(
            request,
            "public/track/unsubscribe.html",
            {"done": done, "service": service},
        )
    )


@require_http_methods(["GET", "POST"])
@never_cache
def track_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation email: GET asks, POST confirms (idempotent)."""
    follower, link = follower_for_confirmation_token(token)
    if link != "valid":
        return _private(render(request, "public/track/confirm.html", {"state": link}, status=400))
    if request.method == "POST" and follower is not None:
        follower = citizen_follow_confirm(follower=follower)
    if follower is None:  # a genuine link whose address was deleted (or unsubscribed)
        state = "gone"
    elif follower.confirmed_at is not None:
        state = "confirmed"
    else:
        state = "ask"
    return _private(
        render(
            request,
            "public/track/confirm.html",
            {"state": state, "service": follower.delivery.service if follower else None},
        )
    )
