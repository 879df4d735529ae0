"""The outbox's own messages: notices to agency admins (a webhook endpoint or an email
address was disabled) and the daily digest, registered like any app's (apps.py)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from notifications import registry
from notifications.channels import Moot
from notifications.models import EmailAddressHealth, Notification
from notifications.registry import Email, MessageType
from notifications.rendering import absolute_url, render_email

WEBHOOK_DISABLED = "webhook_disabled"
EMAIL_DISABLED = "email_disabled"
DIGEST = "digest"


def _webhook_notice(notification: Notification, language: str) -> Email:
    """To agency admins: a webhook endpoint was disabled after repeated refusals."""
    endpoint = notification.webhook_endpoint
    context: dict[str, Any] = {
        "notification": notification,
        "endpoint": endpoint,
        "language": language,
        # The failure class only, in the recipient's language: never what the network said.
        "error": endpoint.last_error_label if endpoint is not None else "",
    }
    return render_email("notifications/email/webhook_disabled", context)


def _email_notice(notification: Notification, language: str) -> Email:
    """To agency admins: an address their units list was disabled after repeated refusals
    (the address is the notice's subject)."""
    health = (
        EmailAddressHealth.objects.filter(pk=notification.subject_id).first()
        if notification.subject_id is not None
        else None
    )
    if health is None:
        raise Moot("The disabled address of this notice is gone.")
    unit = notification.unit
    settings_url = ""
    if unit is not None:
        path = reverse("notifications:agency_settings", kwargs={"agency_slug": unit.agency.slug})
        settings_url = absolute_url(path)
    context: dict[str, Any] = {
        "notification": notification,
        "endpoint": notification.webhook_endpoint,
        "language": language,
        "health": health,
        "address": health.email,
        "count": health.consecutive_permanent_failures,
        "error": health.last_error,
        "unit": unit,
        "settings_url": settings_url,
    }
    return render_email("notifications/email/email_disabled", context)


def _digest(notification: Notification, language: str) -> Email:
    """The daily digest: the held items, rendered by the digest's registered renderer."""
    render = registry.digest_renderer()
    if render is None:
        raise Moot("No renderer is registered for the daily digest.")
    items = list(
        notification.digest_items.prefetch_related(registry.subject_prefetch()).order_by(
            "created_at", "pk"
        )
    )
    return render(notification, items, language)


def register() -> None:
    registry.register(
        MessageType(
            event=WEBHOOK_DISABLED,
            label=_("Webhook endpoint disabled"),
            render_email=_webhook_notice,
        )
    )
    registry.register(
        MessageType(
            event=EMAIL_DISABLED, label=_("Email address disabled"), render_email=_email_notice
        )
    )
    registry.register(MessageType(event=DIGEST, label=_("Digest of notices"), render_email=_digest))
