"""The drainer's fast path (notifications.compose) against the per-message reference
(`notifications.channels.email_for`): the same email once parsed."""

from __future__ import annotations

import email
import re
import time
from email.header import decode_header, make_header
from email.message import Message
from email.utils import formatdate
from types import SimpleNamespace
from typing import Any
from unittest import mock

from notifications.channels import email_for, message_id
from notifications.compose import Composer
from notifications.models import Notification


def _decoded(value: str) -> str:
    """The header's value as a reader sees it: unfolded (RFC 5322 2.2.3), then decoded."""
    return str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", value)))).strip()


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "ascii")


def django_bytes(message: Any) -> bytes:
    """What Django's SMTP backend sends for one of its messages."""
    return bytes(message.message().as_bytes(linesep="\r\n"))


def parsed(data: bytes) -> dict[str, Any]:
    """What a receiver sees: the headers (decoded, but Date), the content type without its
    random boundary, and each part's type, charset, encoding and decoded text."""
    message: Message = email.message_from_bytes(data)
    headers = sorted(
        (name.lower(), _decoded(value))
        for name, value in message.items()
        if name.lower() not in {"date", "content-type"}
    )
    parts = [
        (
            part.get_content_type(),
            part.get_content_charset(),
            part["Content-Transfer-Encoding"],
            _text(part),
        )
        for part in message.walk()
        if not part.is_multipart()
    ]
    params = [(k, v) for k, v in message.get_params() or [] if k != "boundary"]
    return {"headers": headers, "type": params, "parts": parts}


def fast_bytes(composer: Composer, row: Notification) -> bytes | None:
    rendered, language = composer.email(row)
    return composer.mime(
        row,
        rendered,
        language,
        message_id=message_id(row.idempotency_key),
        date=formatdate(),
    )


def assert_same_email(row: Notification, composer: Composer | None = None) -> Composer:
    """The fast path's email for `row` equals the reference's; the fast path was taken
    (no silent fall back to Django's message). Returns the composer."""
    composer = composer or Composer()
    # The signed links carry the second they were signed in: the same for both.
    now = time.time()
    with mock.patch("django.core.signing.time", SimpleNamespace(time=lambda: now)):
        reference = django_bytes(email_for(row))
        fast = fast_bytes(composer, row)
    assert fast is not None, f"{row.event}: the fast path fell back to Django's message"
    fast_seen, reference_seen = parsed(fast), parsed(reference)
    assert fast_seen == reference_seen, f"{row.event}:\n{fast_seen}\n!=\n{reference_seen}"
    return composer
