"""The completion email of a request, with the satisfaction survey's link.

A citizen who follows a request by email (oversight.followers: the tracking page, double
opt-in) hears when the request is completed, with the link to that request's
questionnaire (one response per request, as on the tracking page). Nothing else in the
project emails a citizen about a completed request, so this is that email.

`survey_invitations_queue` (on beat, every 15 minutes, and idempotent) writes one outbox
row per confirmed follower of each request completed in the last `WINDOW` and not yet
answered; the idempotency key (event, request, address) makes it one email per request and
address, however often it runs. Rendering checks again: a follower who left, or a request
answered meanwhile, gets nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delivery.models import DeliveryStatus
from notifications import registry
from notifications.channels import Moot, Unsubscribed
from notifications.keys import idempotency_key
from notifications.models import Notification, NotificationStatus
from notifications.outbox.insert import insert_notifications
from notifications.registry import Email, MessageType
from notifications.rendering import absolute_url, render_email
from oversight.models import CitizenFollower

SURVEY_INVITE = "request_completed_survey"
# Requests completed this long ago at most are announced (a beat outage up to this long
# loses nothing; older completions are not news any more).
WINDOW = dt.timedelta(days=7)
BATCH = 2000


def _key(delivery_id: int, email: str) -> str:
    return idempotency_key(
        event=SURVEY_INVITE,
        subject=f"delivery:{delivery_id}",
        recipient=email.lower(),
        channel="email",
        level=0,
    )


def survey_invitations_queue(*, now: dt.datetime | None = None) -> int:
    """Queue the completion emails due; returns how many rows were offered to the outbox
    (rows already queued are skipped by their key)."""
    now = now or timezone.now()
    followers = (
        CitizenFollower.objects.filter(
            confirmed_at__isnull=False,
            delivery__status=DeliveryStatus.COMPLETED,
            delivery__completed_at__gte=now - WINDOW,
            delivery__completed_at__lte=now,
            delivery__survey_response__isnull=True,
        )
        .values_list("pk", "delivery_id", "delivery__unit_id", "email")
        .order_by("pk")
    )
    follower_type = ContentType.objects.get_for_model(CitizenFollower)
    rows = [
        Notification(
            event=SURVEY_INVITE,
            subject_type=follower_type,
            subject_id=pk,
            unit_id=unit_id,
            channel="email",
            recipient=email,
            level=0,
            status=NotificationStatus.PENDING,
            idempotency_key=_key(delivery_id, email),
        )
        for pk, delivery_id, unit_id, email in followers
    ]
    if rows:
        insert_notifications(rows, batch_size=BATCH)
    return len(rows)


def _invite_email(notification: Notification, language: str) -> Email:
    """To the follower (the row's subject): the request is completed; the survey's link,
    the tracking page and a one-click unsubscribe link."""
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(
            pk=notification.subject_id,
            email__iexact=notification.recipient,
            confirmed_at__isnull=False,
        )
        .first()
        if notification.subject_id is not None
        else None
    )
    if follower is None:
        raise Unsubscribed("The citizen no longer follows this request.")
    delivery = follower.delivery
    from feedback.models import SurveyResponse

    if SurveyResponse.objects.filter(delivery=delivery).exists():
        raise Moot("The survey of this request is already answered.")
    unsubscribe_url = absolute_url(
        reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
    )
    context: dict[str, Any] = {
        "notification": notification,
        "delivery": delivery,
        "service": delivery.service,
        "unit": delivery.unit,
        "language": language,
        "survey_url": absolute_url(
            reverse("feedback:after_request", kwargs={"code": delivery.tracking_code})
        ),
        "track_url": absolute_url(reverse("track:detail", kwargs={"code": delivery.tracking_code})),
        "unsubscribe_url": unsubscribe_url,
    }
    email = render_email("feedback/email/survey_invite", context)
    return dataclasses.replace(email, headers={"List-Unsubscribe": f"<{unsubscribe_url}>"})


def register() -> None:
    registry.register(
        MessageType(
            event=SURVEY_INVITE,
            label=_("Request completed: satisfaction survey"),
            render_email=_invite_email,
            personal_recipient=True,
        )
    )
