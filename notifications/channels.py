"""Channels: how one notification is turned into a message and sent.

A channel sends a batch of claimed rows and reports, per row, one `Outcome`. It never
touches the database; the drainer records outcomes (notifications/outbox/drain.py).
"""

from __future__ import annotations

import contextlib
import functools
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
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError
from django.utils import translation

from notifications import registry
from notifications.compose import Composer, language_for
from notifications.models import AttemptResult, Notification, WebhookFailure
from notifications.webhook_targets import (
    WebhookHostNotFound,
    WebhookTarget,
    WebhookTargetRefused,
    webhook_post,
    webhook_target,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    result: str  # AttemptResult
    error: str = ""
    # Email: the server refused the recipient address itself (5xx to RCPT TO). Only this
    # counts towards disabling the address (not a refused sender, nor an unsubscribe).
    address_refused: bool = False


SENT = Outcome(AttemptResult.SENT)


class Unsubscribed(Exception):
    """The recipient stopped following what the message is about before it left (e.g. a
    citizen unsubscribed): never send it (fails permanently)."""


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


def message_id(idempotency_key: str) -> str:
    """A Message-ID derived from the idempotency key: receivers can drop a duplicate."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"<{digest}@{domain or 'maklumat.local'}>"


def email_for(notification: Notification) -> EmailMultiAlternatives:
    """The HTML + plain-text email for one notification, in the recipient's language,
    rendered by its event's registered renderer (notifications.registry): one full
    rendering and one Django message per row, the reference the drainer's fast path
    (notifications.compose) must equal."""
    found = registry.message_type(notification.event)
    if found is None:
        raise Moot(f"No renderer is registered for {notification.event!r}.")
    language = language_for(notification)
    with translation.override(language):
        email = found.render_email(notification, language)
    return django_message(notification, email, language)


def django_message(
    notification: Notification, email: registry.Email, language: str
) -> EmailMultiAlternatives:
    """The Django message of one rendered email."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[notification.recipient],
        headers={
            "Message-ID": message_id(notification.idempotency_key),
            "X-Maklumat-Notification": notification.idempotency_key,
            "Content-Language": language,
            **email.headers,
        },
    )
    message.attach_alternative(email.html, "text/html")
    return message


OnOutcome = Callable[[Notification, Outcome], None]


def sendmail_gated(
    smtp: smtplib.SMTP,
    from_addr: str,
    to_addr: str,
    payload: bytes,
    before_accept: Callable[[], None],
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    """`smtplib.SMTP.sendmail` for one recipient (the same commands, checks and errors),
    with `before_accept()` called after DATA was answered and before the message's bytes
    and the final "." that asks the server to accept it (notifications/outbox/inflight.py),
    and `meanwhile()` called once they went, while the server takes the message, before
    its answer is read (the caller prepares the next message there)."""
    smtp.ehlo_or_helo_if_needed()
    options = [f"size={len(payload)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, resp = smtp.mail(from_addr, options)
    if code != 250:
        smtp.close() if code == 421 else smtp.rset()
        raise smtplib.SMTPSenderRefused(code, resp, from_addr)
    code, resp = smtp.rcpt(to_addr)
    if code not in (250, 251):
        smtp.close() if code == 421 else smtp.rset()
        raise smtplib.SMTPRecipientsRefused({to_addr: (code, resp)})
    smtp.putcmd("data")
    code, resp = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, resp)
    quoted = re.sub(rb"(?m)^\.", b"..", payload)  # dot-stuffing, as smtplib does
    if quoted[-2:] != b"\r\n":
        quoted += b"\r\n"
    # Message and final "." in one write: a small write of its own after a large one would
    # wait for the server's delayed ACK (Nagle), some 40 ms a message.
    before_accept()
    smtp.send(quoted + b".\r\n")
    meanwhile()
    code, resp = smtp.getreply()
    if code != 250:
        smtp.close() if code == 421 else smtp.rset()
        raise smtplib.SMTPDataError(code, resp)


def _nothing() -> None:
    pass


class EmailConnection:
    """A connection to the mail server for a whole drain: opened when first needed, kept
    open from one batch to the next (no connect, EHLO and QUIT per batch), opened anew
    after a failure that may have broken it."""

    def __init__(self) -> None:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 30
        self.backend: Any = get_connection(fail_silently=False, timeout=timeout)
        self.opened = False

    def open(self) -> None:
        if not self.opened:
            self.backend.open()
            self.opened = True

    def close(self) -> None:
        if self.opened:
            self.opened = False
            with contextlib.suppress(Exception):  # a dead connection; or all was accepted
                self.backend.close()


def send_email_batch(
    rows: Iterable[Notification],
    on_outcome: OnOutcome | None = None,
    *,
    composer: Composer | None = None,
    before_accept: Callable[[], None] | None = None,
    connection: EmailConnection | None = None,
) -> dict[int, Outcome]:
    """Send each row's email over one connection; reconnect after a dropped connection.

    `on_outcome(row, outcome)` is called right after each message, before the next one is
    sent, so the caller can record it at once: a worker that dies mid-batch then leaves at
    most the one message in flight with an unknown outcome.

    Emails are rendered and encoded by a `Composer` (notifications.compose; the caller's,
    to share its compiled templates across batches). Over Django's SMTP backend the bytes
    go straight to the server on the backend's open connection (`sendmail`, as the backend
    itself does); any other backend (locmem in tests, console) gets Django's message.
    `before_accept()` is called before the server is asked to accept each message (after
    its bytes went): the caller waits there for the previous outcome's record. Each
    message is composed while the server takes the one before.

    `connection`: the caller's, kept open after the batch (the caller closes it); else
    one for this batch.
    """
    composer = composer or Composer()
    outcomes: dict[int, Outcome] = {}
    own = connection is None
    mail = connection if connection is not None else EmailConnection()
    raw = isinstance(mail.backend, SMTPBackend)
    rows = list(rows)
    ready: dict[int, _Ready | Exception] = {}  # by position in `rows`

    def prepare(i: int) -> None:
        """Compose row i, if there is one and it is not done yet; keep what it raised for
        its turn (so outcomes are reported in order, each after the one before)."""
        if i < len(rows) and i not in ready:
            try:
                ready[i] = _compose(rows[i], composer, raw=raw)
            except Exception as exc:
                ready[i] = exc

    try:
        for i, row in enumerate(rows):
            try:
                prepare(i)
                composed = ready.pop(i)
                if isinstance(composed, Exception):
                    raise composed
                mail.open()
                if composed.payload is not None:
                    sendmail_gated(
                        mail.backend.connection,
                        composer.envelope(settings.DEFAULT_FROM_EMAIL),
                        composer.envelope(row.recipient),
                        composed.payload,
                        before_accept or _nothing,
                        # The next message is composed while the server takes this one.
                        functools.partial(prepare, i + 1),
                    )
                else:
                    if before_accept is not None:
                        before_accept()
                    message = django_message(row, composed.email, composed.language)
                    message.connection = mail.backend
                    message.send(fail_silently=False)
                outcome = SENT
            except DatabaseError:
                # the previous outcome's record failed (or a renderer's query did): stop
                # before anything else
                raise
            except Exception as exc:
                outcome = classify_email_error(exc)
                if outcome.result == AttemptResult.TRANSIENT:
                    # The connection may be broken: start afresh for the next row.
                    mail.close()
            outcomes[row.pk] = outcome
            if on_outcome is not None:
                on_outcome(row, outcome)
    finally:
        if own:
            mail.close()
    return outcomes


@dataclass(frozen=True)
class _Ready:
    """A composed message: its rendering, language and (over SMTP) bytes."""

    email: registry.Email
    language: str
    payload: bytes | None


def _compose(row: Notification, composer: Composer, *, raw: bool) -> _Ready:
    email, language = composer.email(row)
    payload = (
        composer.mime(
            row,
            email,
            language,
            message_id=message_id(row.idempotency_key),
            date=formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        )
        if raw
        else None
    )
    return _Ready(email, language, payload)


# --- Webhooks -----------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: str, body: str) -> str:
    """Hex HMAC-SHA256(secret, f"{timestamp}.{body}"): what X-Maklumat-Signature carries."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def webhook_body(notification: Notification) -> str:
    """The JSON posted for one notification: its event, key and level, and the fields its
    event's registered payload gives (e.g. the breach's facts; no personal data)."""
    data: dict[str, Any] = {
        "event": notification.event,
        "idempotency_key": notification.idempotency_key,
        "level": notification.level,
    }
    found = registry.message_type(notification.event)
    if found is not None and found.webhook_payload is not None:
        data |= found.webhook_payload(notification)
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
