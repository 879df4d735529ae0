"""The drainer's fast path from a claimed row to the bytes an SMTP server receives.

`notifications.channels.email_for` is the reference: one full template rendering and one
`EmailMultiAlternatives` per row. A `Composer` (one per drain) produces the same email
with less work per message:

- **Templates compiled once per kind, language and shape.** A message type that gives a
  `compile_email` (registry.Compiled: the shape, the per-message values, the renderer) is
  rendered once per (event, language, shape) with a sentinel in place of each value; each
  message then only substitutes its values (escaped in the HTML part) into that rendered
  body. The per-recipient parts (the signed acknowledge link) are values like the others.
  Anything the substitution cannot vouch for falls back to the full rendering for that
  message: a value with a line break or a sentinel character, a sentinel that a filter
  transformed (missing from the compiled body).
- **The MIME message built once per body.** The two parts (text, HTML) are encoded once
  per distinct body, with the same content transfer encodings Django chooses (7bit, 8bit);
  per recipient only the headers are written (To, Date, Message-ID, the notification key,
  the language, the renderer's own such as List-Unsubscribe), with Django's own header
  checks (no line breaks; RFC 2047 for non-ASCII). Anything else (a non-ASCII recipient,
  a line over RFC 5322's 998 octets that Django would send quoted-printable, the boundary
  inside a body) returns None: the caller sends Django's message instead.

The parsed result equals Django's (subject, both bodies, every header but Message-ID and
Date, which are per send): tests/notifications/test_compose.py checks it for every
registered kind in both languages.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    sanitize_address,
)
from django.utils import translation
from django.utils.html import conditional_escape

from notifications import registry
from notifications.models import Notification
from notifications.registry import Compiled, Email

# Private-use characters: no template filter or escaping leaves them as they were while
# changing what is between them, and no name, date or link carries them.
OPEN, CLOSE = "\ue000", "\ue001"
SENTINEL = re.compile(f"({OPEN}v\\d+{CLOSE})")
CHARSET = "utf-8"
# The headers `mime` writes itself: a renderer's header of the same name is left to Django.
OWN_HEADERS = {
    "content-type",
    "mime-version",
    "subject",
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "date",
    "message-id",
    "x-maklumat-notification",
    "content-language",
    "content-transfer-encoding",
}


def _crlf(text: str) -> str:
    """Line endings as the MIME generator writes them (any of \\r\\n, \\r, \\n -> \\r\\n)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "\r\n")


class _Template:
    """One rendered email with a sentinel per value: its pieces, ready to be joined."""

    def __init__(self, rendered: Email, names: list[str]) -> None:
        self.names = names
        self.subject = SENTINEL.split(rendered.subject)
        self.text = SENTINEL.split(rendered.text)
        self.html = SENTINEL.split(rendered.html)
        self.headers = {k: SENTINEL.split(v) for k, v in rendered.headers.items()}
        self.index = {f"{OPEN}v{i}{CLOSE}": i for i in range(len(names))}

    def fill(self, values: Mapping[str, str]) -> Email:
        raw = [values[name] for name in self.names]
        escaped = [conditional_escape(value) for value in raw]
        subject = self._join(self.subject, raw)
        return Email(
            subject=" ".join(subject.split()),
            text=self._join(self.text, raw),
            html=self._join(self.html, escaped),
            headers={k: self._join(v, raw) for k, v in self.headers.items()},
        )

    def _join(self, pieces: list[str], values: Sequence[str]) -> str:
        # re.split with a group: the odd pieces are the sentinels.
        index = self.index
        return "".join(values[index[piece]] if i % 2 else piece for i, piece in enumerate(pieces))


def _compile(compiled: Compiled) -> _Template | None:
    names = list(compiled.values)
    sentinels = {name: f"{OPEN}v{i}{CLOSE}" for i, name in enumerate(names)}
    rendered = compiled.render(sentinels)
    found = "".join([rendered.subject, rendered.text, rendered.html, *rendered.headers.values()])
    # Every sentinel that comes out must come out as it went in: one that a filter touched
    # (upper-cased, cut, quoted) leaves an unmatched marker, and the shape is then rendered
    # in full for each message. (A value the shape does not show may be absent.)
    intact = SENTINEL.findall(found)
    if found.count(OPEN) != len(intact) or found.count(CLOSE) != len(intact):
        return None
    return _Template(rendered, names)


def _substitutable(values: Mapping[str, str]) -> bool:
    for value in values.values():
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            return False
        if OPEN in value or CLOSE in value:
            return False
    return True


def language_for(notification: Notification) -> str:
    user = notification.user
    languages = {code for code, _ in settings.LANGUAGES}
    if user is not None and user.preferred_language in languages:
        return user.preferred_language
    return str(settings.LANGUAGE_CODE)


class Composer:
    """Renders and encodes the emails of one drain (its caches live as long as it does)."""

    def __init__(self) -> None:
        self.templates: dict[tuple[Any, ...], _Template | None] = {}
        self.parts: dict[tuple[str, str], bytes | None] = {}
        self.subjects: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.boundary = "=" * 15 + str(random.randrange(10**18, 10**19)) + "=="  # noqa: S311
        self.from_header = str(settings.DEFAULT_FROM_EMAIL)
        self.compiled_count = 0  # messages filled into a compiled template
        self.rendered_count = 0  # messages rendered in full

    # --- Rendering ---------------------------------------------------------------------

    def email(self, row: Notification) -> tuple[Email, str]:
        """The row's rendered email and its language (raises Moot/Unsubscribed as the
        renderer does)."""
        from notifications.channels import Moot

        found = registry.message_type(row.event)
        if found is None:
            raise Moot(f"No renderer is registered for {row.event!r}.")
        language = language_for(row)
        with translation.override(language):
            if found.compile_email is None:
                self.rendered_count += 1
                return found.render_email(row, language), language
            compiled = found.compile_email(row, language)
            key = (row.event, language, compiled.shape)
            if key not in self.templates:
                self.templates[key] = _compile(compiled)
            template = self.templates[key]
            if template is None or not _substitutable(compiled.values):
                self.rendered_count += 1
                return compiled.render(compiled.values), language
            self.compiled_count += 1
            return template.fill(compiled.values), language

    # --- MIME ----------------------------------------------------------------------------

    def envelope(self, address: str) -> str:
        """The SMTP envelope address, as Django's backend sanitizes it (ValueError if bad)."""
        found = self.addresses.get(address)
        if found is None:
            found = self.addresses[address] = sanitize_address(address, CHARSET)
        return found

    def _subject(self, subject: str) -> str:
        found = self.subjects.get(subject)
        if found is None:
            found = self.subjects[subject] = forbid_multi_line_headers("Subject", subject, CHARSET)[
                1
            ]
        return found

    def _body(self, text: str, html: str) -> bytes | None:
        key = (text, html)
        if key in self.parts:
            return self.parts[key]
        # Django's multipart/alternative: the text part (only if there is text), then HTML.
        bodies = [(text, "plain")] if text else []
        bodies.append((html, "html"))
        boundary = f"--{self.boundary}".encode()
        chunks: list[bytes] = []
        for body, subtype in bodies:
            data = _crlf(body).encode(CHARSET)
            if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
                len(line) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in data.split(b"\r\n")
            ):
                chunks = []  # Django would send it quoted-printable
                break
            if boundary in data:
                chunks = []
                break
            encoding = "7bit" if body.isascii() else "8bit"
            chunks.append(
                boundary
                + f'\r\nContent-Type: text/{subtype}; charset="{CHARSET}"\r\n'
                f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
        body_bytes = b"".join(chunks) + boundary + b"--\r\n" if chunks else None
        if len(self.parts) > 10_000:
            self.parts.clear()
        self.parts[key] = body_bytes
        return body_bytes

    def mime(
        self, row: Notification, email: Email, language: str, *, message_id: str, date: str
    ) -> bytes | None:
        """The message's bytes as Django's SMTP backend would send them (CRLF line ends),
        or None when only Django's own message would be right."""
        recipient = row.recipient
        if not recipient.isascii() or any(k.lower() in OWN_HEADERS for k in email.headers):
            return None
        body = self._body(email.text, email.html)
        if body is None:
            return None
        headers: list[tuple[str, str]] = [
            ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"'),
            ("MIME-Version", "1.0"),
            ("Subject", email.subject),
            ("From", self.from_header),
            ("To", recipient),
            ("Date", date),
            ("Message-ID", message_id),
            ("X-Maklumat-Notification", row.idempotency_key),
            ("Content-Language", language),
            *email.headers.items(),
        ]
        lines = []
        for name, value in headers:
            if name == "Subject":
                if "\n" in value or "\r" in value:
                    return None  # Django refuses it (BadHeaderError): let it say so
                value = _crlf(self._subject(value))
            elif not value.isascii() or "\n" in value or "\r" in value:
                return None
            line = f"{name}: {value}"
            if len(line) > RFC5322_EMAIL_LINE_LENGTH_LIMIT:
                return None
            lines.append(line)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body
