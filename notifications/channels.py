"""Channels: how one notification is turned into a message and sent.

A channel sends a batch of claimed rows and reports, per row, one `Outcome`. It never
touches the database; the drainer records outcomes (notifications/outbox/drain.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.models import AttemptResult, Notification, WebhookFailure
from notifications.webhook_targets import (
    WebhookHostNotFound,
    WebhookTarget,
    WebhookTargetRefused,
    webhook_post,
    webhook_target,
)

logger = logging.getLogger(__name__)

ACK_SALT = "maklumat.breach-acknowledge"


@dataclass(frozen=True)
class Outcome:
    result: str  # AttemptResult
    error: str = ""
    # Email: the server refused the recipient address itself (5xx to RCPT TO). Only this
    # counts towards disabling the address (not a refused sender, nor an unsubscribe).
    address_refused: bool = False


SENT = Outcome(AttemptResult.SENT)


class Unsubscribed(Exception):
    """The citizen stopped following the request before the message left: never send it."""


class Moot(Unsubscribed):
    """What the message is about is gone before it left: never send it (fails permanently)."""


def classify_email_error(exc: BaseException) -> Outcome:
    """Permanent: the address or the message is refused (5xx), or the citizen
    unsubscribed. Transient: everything else (connection refused or dropped, timeouts,
    4xx "try again later")."""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        refused = bool(codes) and all(code >= 500 for code in codes)
        return Outcome(AttemptResult.PERMANENT, text, address_refused=refused)
    if isinstance(exc, smtplib.SMTPSenderRefused | Unsubscribed):
        return Outcome(AttemptResult.PERMANENT, text)
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return Outcome(AttemptResult.TRANSIENT, text)
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return Outcome(AttemptResult.PERMANENT, text)
    return Outcome(AttemptResult.TRANSIENT, text)


# --- The one-click acknowledge link ------------------------------------------------------


def ack_token(notification: Notification) -> str:
    return signing.dumps(
        {"b": notification.breach_id, "n": notification.pk, "e": notification.recipient},
        salt=ACK_SALT,
        compress=True,
    )


def ack_token_read(token: str, *, max_age_seconds: int) -> dict[str, Any]:
    """The token's payload; raises signing.BadSignature (or SignatureExpired, a subclass)."""
    data = signing.loads(token, salt=ACK_SALT, max_age=max_age_seconds)
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        raise signing.BadSignature("Malformed token")
    return data


def message_id(idempotency_key: str) -> str:
    """A Message-ID derived from the idempotency key: receivers can drop a duplicate."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"<{digest}@{domain or 'maklumat.local'}>"


def language_for(notification: Notification) -> str:
    user = notification.user
    languages = {code for code, _ in settings.LANGUAGES}
    if user is not None and user.preferred_language in languages:
        return user.preferred_language
    return settings.LANGUAGE_CODE


def _plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text part or subject: rendered without HTML escaping ("&", not "&amp;")."""
    template: Any = get_template(name)
    return str(template.template.render(Context(context, autoescape=False)))


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def email_for(notification: Notification) -> EmailMultiAlternatives:
    """The HTML + plain-text email for one breach notification, in the recipient's language."""
    breach = notification.breach
    language = language_for(notification)
    if notification.event in ("webhook_disabled", "email_disabled"):
        return _notice_email(notification, language)
    if notification.event == "digest":
        return _digest_email(notification, language)
    if notification.event == "breach_answered":
        return _citizen_answer_email(notification, language)
    if notification.event == "follow_confirm":
        return _follow_confirm_email(notification, language)
    with translation.override(language):
        context: dict[str, Any] = {
            "notification": notification,
            "breach": breach,
            "level": notification.level,
            "unit": breach.unit if breach else notification.unit,
            "agency": breach.agency if breach else None,
            "ack_url": _absolute(
                reverse("breach_answers:ack", kwargs={"token": ack_token(notification)})
            )
            if breach is not None
            else "",
            "detail_url": _absolute(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
            if breach is not None
            else "",
            "language": language,
        }
        subject = " ".join(_plain("notifications/email/breach_subject.txt", context).split())
        text = _plain("notifications/email/breach.txt", context)
        html = render_to_string("notifications/email/breach.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.recipient],
        headers={
            "Message-ID": message_id(notification.idempotency_key),
            "X-Maklumat-Notification": notification.idempotency_key,
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _digest_email(notification: Notification, language: str) -> EmailMultiAlternatives:
    """The daily digest: every new breach of the unit held for this recipient."""
    items = list(
        notification.digest_items.select_related(
            "breach__service", "breach__delivery", "breach__unit"
        ).order_by("created_at", "pk")
    )
    with translation.override(language):
        context = {
            "notification": notification,
            "unit": notification.unit,
            "language": language,
            "entries": [
                {
                    "breach": item.breach,
                    "ack_url": _absolute(
                        reverse("breach_answers:ack", kwargs={"token": ack_token(item)})
                    ),
                    "detail_url": _absolute(
                        reverse("breach_answers:detail", kwargs={"pk": item.breach_id})
                    ),
                }
                for item in items
                if item.breach is not None
            ],
        }
        subject = " ".join(_plain("notifications/email/digest_subject.txt", context).split())
        text = _plain("notifications/email/digest.txt", context)
        html = render_to_string("notifications/email/digest.html", context)
    return _message(notification, subject, text, html, language)


CITIZEN_EVENT_KEY = re.compile(r"^breach_answered:breach:\d+:event:(\d+):")


def _citizen_answer_email(notification: Notification, language: str) -> EmailMultiAlternatives:
    """To a citizen following the request: the unit's answer, the public tracking page and
    a one-click unsubscribe link; nothing from the staff area."""
    from oversight.models import BreachEvent, CitizenFollower

    breach = notification.breach
    delivery_id = breach.delivery_id if breach is not None else None
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(
            delivery_id=delivery_id,
            email__iexact=notification.recipient,
            confirmed_at__isnull=False,
        )
        .first()
        if delivery_id is not None
        else None
    )
    if breach is None or follower is None:
        raise Unsubscribed("The citizen no longer follows this request.")
    match = CITIZEN_EVENT_KEY.match(notification.idempotency_key)
    event = (
        BreachEvent.objects.filter(pk=int(match.group(1)), breach=breach).first() if match else None
    )
    delivery = follower.delivery
    with translation.override(language):
        context = {
            "notification": notification,
            "breach": breach,
            "event": event,
            "delivery": delivery,
            "service": delivery.service,
            "unit": delivery.unit,
            "language": language,
            "track_url": _absolute(
                reverse("track:detail", kwargs={"code": delivery.tracking_code})
            ),
            "unsubscribe_url": _absolute(
                reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
            ),
        }
        subject = " ".join(
            _plain("notifications/email/breach_answered_subject.txt", context).split()
        )
        text = _plain("notifications/email/breach_answered.txt", context)
        html = render_to_string("notifications/email/breach_answered.html", context)
    message = _message(notification, subject, text, html, language)
    message.extra_headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    return message


FOLLOW_CONFIRM_KEY = re.compile(r"^follow_confirm:follower:(\d+):")


def _follow_confirm_email(notification: Notification, language: str) -> EmailMultiAlternatives:
    """To an address left on a tracking page: the signed link that confirms it. Names the
    service and the office, never the tracking code, the tracking page nor anything from
    the staff area (the address is not verified yet: it may not be the citizen's)."""
    from oversight.models import FOLLOWER_CONFIRM_MAX_AGE, CitizenFollower

    match = FOLLOW_CONFIRM_KEY.match(notification.idempotency_key)
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(pk=int(match.group(1)), email__iexact=notification.recipient)
        .first()
        if match
        else None
    )
    if follower is None:
        raise Moot("The address to confirm is gone.")
    if follower.confirmed_at is not None:
        raise Moot("The address is already confirmed.")
    delivery = follower.delivery
    with translation.override(language):
        context = {
            "notification": notification,
            "service": delivery.service,
            "unit": delivery.unit,
            "submitted_at": delivery.submitted_at,
            "days": FOLLOWER_CONFIRM_MAX_AGE.days,
            "language": language,
            "confirm_url": _absolute(
                reverse("track:confirm", kwargs={"token": follower.signed_confirmation_token()})
            ),
            # For whoever did not ask: forget the address now, not only after the purge.
            "forget_url": _absolute(
                reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
            ),
        }
        subject = " ".join(
            _plain("notifications/email/follow_confirm_subject.txt", context).split()
        )
        text = _plain("notifications/email/follow_confirm.txt", context)
        html = render_to_string("notifications/email/follow_confirm.html", context)
    return _message(notification, subject, text, html, language)


def _message(
    notification: Notification, subject: str, text: str, html: str, language: str
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.recipient],
        headers={
            "Message-ID": message_id(notification.idempotency_key),
            "X-Maklumat-Notification": notification.idempotency_key,
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


EMAIL_NOTICE_KEY = re.compile(r"^email_disabled:address(\d+)-")


def _notice_email(notification: Notification, language: str) -> EmailMultiAlternatives:
    """The notice to agency admins that a webhook endpoint or an email address was disabled."""
    context: dict[str, Any] = {
        "notification": notification,
        "endpoint": notification.webhook_endpoint,
        "language": language,
    }
    name = "webhook_disabled"
    with translation.override(language):
        endpoint = notification.webhook_endpoint
        # The failure class only, in the recipient's language: never what the network said.
        context["error"] = endpoint.last_error_label if endpoint is not None else ""
        if notification.event == "email_disabled":
            name = "email_disabled"
            context |= _email_notice_context(notification)
        subject = " ".join(_plain(f"notifications/email/{name}_subject.txt", context).split())
        text = _plain(f"notifications/email/{name}.txt", context)
        html = render_to_string(f"notifications/email/{name}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.recipient],
        headers={
            "Message-ID": message_id(notification.idempotency_key),
            "X-Maklumat-Notification": notification.idempotency_key,
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _email_notice_context(notification: Notification) -> dict[str, Any]:
    """The disabled address of an "email_disabled" notice (its id is in the key)."""
    from notifications.models import EmailAddressHealth

    match = EMAIL_NOTICE_KEY.match(notification.idempotency_key)
    health = EmailAddressHealth.objects.filter(pk=int(match.group(1))).first() if match else None
    if health is None:
        raise Moot("The disabled address of this notice is gone.")
    unit = notification.unit
    settings_url = ""
    if unit is not None:
        path = reverse("notifications:agency_settings", kwargs={"agency_slug": unit.agency.slug})
        settings_url = _absolute(path)
    return {
        "health": health,
        "address": health.email,
        "count": health.consecutive_permanent_failures,
        "error": health.last_error,
        "unit": unit,
        "settings_url": settings_url,
    }


OnOutcome = Callable[[Notification, Outcome], None]


def send_email_batch(
    rows: Iterable[Notification], on_outcome: OnOutcome | None = None
) -> dict[int, Outcome]:
    """Send each row's email over one connection; reconnect after a dropped connection.

    `on_outcome(row, outcome)` is called right after each message, before the next one is
    sent, so the caller can record it at once: a worker that dies mid-batch then leaves at
    most the one message in flight with an unknown outcome.
    """
    outcomes: dict[int, Outcome] = {}
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 30
    connection: Any = get_connection(fail_silently=False, timeout=timeout)
    opened = False
    try:
        for row in rows:
            try:
                message = email_for(row)
                if not opened:
                    connection.open()
                    opened = True
                message.connection = connection
                message.send(fail_silently=False)
                outcome = SENT
            except Exception as exc:
                outcome = classify_email_error(exc)
                if outcome.result == AttemptResult.TRANSIENT:
                    # The connection may be broken: start afresh for the next row.
                    with contextlib.suppress(Exception):  # closing a dead connection
                        connection.close()
                    opened = False
            outcomes[row.pk] = outcome
            if on_outcome is not None:
                on_outcome(row, outcome)
    finally:
        if opened:
            with contextlib.suppress(Exception):  # the messages are already accepted
                connection.close()
    return outcomes


# --- Webhooks -----------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: str, body: str) -> str:
    """Hex HMAC-SHA256(secret, f"{timestamp}.{body}"): what X-Maklumat-Signature carries."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def webhook_body(notification: Notification) -> str:
    """The JSON posted for one notification: the breach's facts, no personal data."""
    breach = notification.breach
    data: dict[str, Any] = {
        "event": notification.event,
        "idempotency_key": notification.idempotency_key,
        "level": notification.level,
        "breach": None,
    }
    if breach is not None:
        data["breach"] = {
            "id": breach.pk,
            "kind": breach.kind,
            "status": breach.status,
            "severity": breach.severity,
            "agency": breach.agency.slug,
            "unit": breach.unit.slug,
            "service": breach.service.slug if breach.service else None,
            "delivery_reference": breach.delivery.reference if breach.delivery else None,
            "measured_value": str(breach.measured_value)
            if breach.measured_value is not None
            else None,
            "promised_value": str(breach.promised_value)
            if breach.promised_value is not None
            else None,
            "value_unit": breach.value_unit,
            "occurred_at": breach.occurred_at.isoformat(),
            "detected_at": breach.detected_at.isoformat(),
            "url": _absolute(reverse("breach_answers:detail", kwargs={"pk": breach.pk})),
        }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def classify_webhook_error(exc: BaseException) -> Outcome:
    """A refused target fails permanently (it would be refused again); a name that does
    not resolve, network errors, timeouts and TLS errors are transient. The outcome
    carries the failure class only (see WebhookFailure)."""
    if isinstance(exc, WebhookTargetRefused):
        return Outcome(AttemptResult.PERMANENT, exc.failure)
    if isinstance(exc, WebhookHostNotFound):
        return Outcome(AttemptResult.TRANSIENT, WebhookFailure.NAME_NOT_FOUND)
    if isinstance(exc, TimeoutError):  # socket.timeout is an alias
        return Outcome(AttemptResult.TRANSIENT, WebhookFailure.TIMEOUT)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Outcome(AttemptResult.TRANSIENT, WebhookFailure.TLS)
    if isinstance(exc, http.client.HTTPException) and not isinstance(exc, ConnectionError):
        return Outcome(AttemptResult.TRANSIENT, WebhookFailure.INVALID_ANSWER)
    return Outcome(AttemptResult.TRANSIENT, WebhookFailure.CONNECT)


def classify_webhook_status(status: int) -> Outcome:
    """2xx is sent; 5xx is transient; a 3xx (never followed), a 4xx or anything odd is
    permanent."""
    if 200 <= status < 300:
        return SENT
    if 300 <= status < 400:
        return Outcome(AttemptResult.PERMANENT, WebhookFailure.REDIRECT)
    if 400 <= status < 500:
        return Outcome(AttemptResult.PERMANENT, WebhookFailure.HTTP_4XX)
    if status >= 500:
        return Outcome(AttemptResult.TRANSIENT, WebhookFailure.HTTP_5XX)
    return Outcome(AttemptResult.PERMANENT, WebhookFailure.INVALID_ANSWER)


def post_webhook(notification: Notification) -> Outcome:
    endpoint = notification.webhook_endpoint
    if endpoint is None or not endpoint.is_active:
        return Outcome(AttemptResult.PERMANENT, "The webhook endpoint is disabled or gone.")
    body = webhook_body(notification)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Maklumat-Webhook/1",
        "X-Maklumat-Timestamp": timestamp,
        "X-Maklumat-Signature": webhook_signature(endpoint.secret, timestamp, body),
        "X-Maklumat-Idempotency-Key": notification.idempotency_key,
    }
    timeout = int(getattr(settings, "NOTIFICATIONS", {}).get("WEBHOOK_TIMEOUT_SECONDS", 10))
    target: WebhookTarget | None = None
    try:
        # Checked at every send, not only when saved: rows saved before the rule, and a
        # name whose DNS answer changed since, are refused here.
        target = webhook_target(endpoint.url)
        answer = webhook_post(target, body=body.encode(), headers=headers, timeout=timeout)
    except Exception as exc:
        outcome = classify_webhook_error(exc)
        # The detail (which address, which port, what the network said) is for operators.
        logger.warning(
            "Webhook %s to endpoint %s (%s) failed: %s: %s: %s",
            notification.idempotency_key,
            endpoint.pk,
            _where(target),
            outcome.error,
            type(exc).__name__,
            exc,
        )
        return outcome
    outcome = classify_webhook_status(answer.status)
    if outcome.result != AttemptResult.SENT:
        logger.warning(
            "Webhook %s to endpoint %s (%s) answered %s %s: %r",
            notification.idempotency_key,
            endpoint.pk,
            _where(target),
            answer.status,
            answer.reason,
            answer.body_start[:200],
        )
    return outcome


def _where(target: WebhookTarget | None) -> str:
    if target is None:
        return "not checked"
    addresses = ", ".join(str(ip) for ip in target.addresses)
    return f"{target.scheme}://{target.host}:{target.port} at {addresses}"


def send_webhook_batch(
    rows: Iterable[Notification], on_outcome: OnOutcome | None = None
) -> dict[int, Outcome]:
    """POST each row to its endpoint (rows come with `webhook_endpoint` selected)."""
    outcomes: dict[int, Outcome] = {}
    for row in rows:
        outcomes[row.pk] = post_webhook(row)
        if on_outcome is not None:
            on_outcome(row, outcomes[row.pk])
    return outcomes


CHANNELS = {"email": send_email_batch, "webhook": send_webhook_batch}
