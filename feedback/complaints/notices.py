"""How complaint messages go out through the generic outbox (notifications).

To the citizen (personal recipients, masked for staff): "complaint_confirm" (the signed
link confirming the address left on the form: double opt-in, nothing else is sent before
it), and "complaint_update" (a step the citizen sees: verified, forwarded, answered,
closed, a question, routed), only to a confirmed address.

To the agency (the unit's contact addresses): "complaint_received", "complaint_forwarded",
"complaint_reopened". These name the category, service, unit, dates and the staff page:
never the complainant's identity nor the text (read on the permission-checked page).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from notifications import registry
from notifications.channels import Moot, Unsubscribed
from notifications.keys import idempotency_key
from notifications.models import Notification, NotificationStatus
from notifications.outbox.insert import insert_notifications
from notifications.outbox.recipients import contacts_of
from notifications.registry import Email, MessageType
from notifications.rendering import absolute_url, render_email

COMPLAINT_CONFIRM = "complaint_confirm"
COMPLAINT_UPDATE = "complaint_update"
COMPLAINT_RECEIVED = "complaint_received"
COMPLAINT_FORWARDED = "complaint_forwarded"
COMPLAINT_REOPENED = "complaint_reopened"
STAFF_EVENTS = (COMPLAINT_RECEIVED, COMPLAINT_FORWARDED, COMPLAINT_REOPENED)
EMAIL_SALT = "feedback.complaint.email"
EMAIL_LINK_MAX_AGE = 30 * 24 * 3600


def email_token(complaint: Any, email: str) -> str:
    return signing.dumps({"c": complaint.pk, "e": email.lower()}, salt=EMAIL_SALT)


def read_email_token(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=EMAIL_SALT, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    email = data.get("e")
    return (data["c"], email) if isinstance(email, str) and email else None


def _moment(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _notification(complaint: Any, event: str, recipient: str, now: dt.datetime) -> Notification:
    return Notification(
        event=event,
        subject=complaint,
        unit_id=complaint.unit_id,
        channel="email",
        recipient=recipient,
        level=0,
        status=NotificationStatus.PENDING,
        idempotency_key=idempotency_key(
            event=event,
            subject=f"complaint:{complaint.pk}:{_moment(now)}",
            recipient=recipient or f"unit:{complaint.unit_id}",
            channel="email",
            level=0,
        ),
    )


def _kick() -> None:
    from django.db import transaction

    from notifications.tasks import kick_drain

    transaction.on_commit(kick_drain)


def queue_confirmation(complaint: Any, *, now: dt.datetime) -> None:
    insert_notifications(
        [_notification(complaint, COMPLAINT_CONFIRM, complaint.contact_email, now)]
    )
    _kick()


def queue_citizen(complaint: Any, *, now: dt.datetime) -> None:
    """One update to the citizen's confirmed address (nothing if none)."""
    if not complaint.contact_email or complaint.email_confirmed_at is None:
        return
    insert_notifications([_notification(complaint, COMPLAINT_UPDATE, complaint.contact_email, now)])
    _kick()


def queue_staff(complaint: Any, event: str, *, now: dt.datetime) -> None:
    """One fan-out row to the unit's contact addresses."""
    insert_notifications([_notification(complaint, event, "", now)])
    _kick()


def _complaint(notification: Notification) -> Any:
    from feedback.complaints.models import Complaint

    complaint = notification.subject
    if not isinstance(complaint, Complaint):
        raise Moot("The complaint is gone.")
    return complaint


def _status_url(complaint: Any) -> str:
    return absolute_url(reverse("complaints:status", kwargs={"code": complaint.tracking_code}))


def _confirm_email(notification: Notification, language: str) -> Email:
    """The signed link confirming the address: names the service and unit, never the
    tracking code (the address is not verified yet: it may not be the citizen's)."""
    complaint = _complaint(notification)
    if complaint.contact_email.lower() != notification.recipient.lower():
        raise Unsubscribed("The address was forgotten.")
    if complaint.email_confirmed_at is not None:
        raise Moot("The address is already confirmed.")
    token = email_token(complaint, complaint.contact_email)
    context = {
        "complaint": complaint,
        "unit": complaint.unit,
        "service": complaint.service,
        "language": language,
        "confirm_url": absolute_url(reverse("complaints:confirm", kwargs={"token": token})),
        "forget_url": absolute_url(reverse("complaints:forget", kwargs={"token": token})),
    }
    return render_email("feedback/email/complaint_confirm", context)


def _update_email(notification: Notification, language: str) -> Email:
    complaint = _complaint(notification)
    if (
        complaint.contact_email.lower() != notification.recipient.lower()
        or complaint.email_confirmed_at is None
    ):
        raise Unsubscribed("The citizen no longer hears about this complaint.")
    token = email_token(complaint, complaint.contact_email)
    forget_url = absolute_url(reverse("complaints:forget", kwargs={"token": token}))
    last = complaint.events.filter(is_public=True).order_by("-at", "-pk").first()
    context = {
        "complaint": complaint,
        "unit": complaint.unit,
        "service": complaint.service,
        "event": last,
        "language": language,
        "status_url": _status_url(complaint),
        "forget_url": forget_url,
    }
    email = render_email("feedback/email/complaint_update", context)
    return dataclasses.replace(email, headers={"List-Unsubscribe": f"<{forget_url}>"})


def _staff_email(notification: Notification, language: str) -> Email:
    complaint = _complaint(notification)
    context = {
        "event": notification.event,
        "complaint": complaint,
        "unit": complaint.unit,
        "service": complaint.service,
        "language": language,
        "staff_url": absolute_url(reverse("complaint_staff:detail", kwargs={"pk": complaint.pk})),
    }
    return render_email("feedback/email/complaint_staff", context)


def _staff_recipients(notification: Notification) -> list[list[str]]:
    complaint = _complaint(notification)
    return [contacts_of(complaint.unit)]


# What each staff message is, in a few words (the inbox's group headings).
STAFF_LABELS = {
    COMPLAINT_RECEIVED: _("New complaint"),
    COMPLAINT_FORWARDED: _("Complaint forwarded to the unit"),
    COMPLAINT_REOPENED: _("Complaint reopened by the citizen"),
}


def _subjects() -> Any:
    from feedback.complaints.models import Complaint

    return Complaint.objects.select_related("agency", "unit", "service")


def register() -> None:
    from feedback.complaints.models import Complaint

    registry.register_subjects(Complaint, _subjects)
    registry.register(
        MessageType(event=COMPLAINT_CONFIRM, render_email=_confirm_email, personal_recipient=True)
    )
    registry.register(
        MessageType(event=COMPLAINT_UPDATE, render_email=_update_email, personal_recipient=True)
    )
    for event in STAFF_EVENTS:
        registry.register(
            MessageType(
                event=event,
                label=STAFF_LABELS[event],
                render_email=_staff_email,
                recipients=_staff_recipients,
            )
        )
