"""Channels: how one notification is turned into a message and sent.

A channel sends a batch of claimed rows and reports, per row, one `Outcome`. It never
touches the database; the drainer records outcomes (notifications/services.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.models import AttemptResult, Notification

ACK_SALT = "maklumat.breach-acknowledge"


@dataclass(frozen=True)
class Outcome:
    result: str  # AttemptResult
    error: str = ""


SENT = Outcome(AttemptResult.SENT)


def classify_email_error(exc: BaseException) -> Outcome:
    """Permanent: the address or the message is refused (5xx). Transient: everything else
    (connection refused or dropped, timeouts, 4xx "try again later")."""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
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


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def email_for(notification: Notification) -> EmailMultiAlternatives:
    """The HTML + plain-text email for one breach notification, in the recipient's language."""
    breach = notification.breach
    language = language_for(notification)
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
        subject = " ".join(
            render_to_string("notifications/email/breach_subject.txt", context).split()
        )
        text = render_to_string("notifications/email/breach.txt", context)
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


def send_email_batch(rows: Iterable[Notification]) -> dict[int, Outcome]:
    """Send each row's email over one connection; reconnect after a dropped connection."""
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
            except Exception as exc:
                outcome = classify_email_error(exc)
                outcomes[row.pk] = outcome
                if outcome.result == AttemptResult.TRANSIENT:
                    # The connection may be broken: start afresh for the next row.
                    with contextlib.suppress(Exception):  # closing a dead connection
                        connection.close()
                    opened = False
                continue
            outcomes[row.pk] = SENT
    finally:
        if opened:
            with contextlib.suppress(Exception):  # the messages are already accepted
                connection.close()
    return outcomes


CHANNELS = {"email": send_email_batch}
