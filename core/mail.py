"""The `make run` email backend: each message an .eml file, one log line per message.

Django's console backend prints every message in full; the demo's first sweep sends
hundreds, which buries everything else in the terminal. Here each message is written to
`<EMAIL_FILE_PATH>/<time>-<id>.eml` (open it with any mail client, or read it as text)
and one line names its recipients, subject and file. Chosen with EMAIL_URL=emlfile://.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)

# More recipients than this are summed up as "+N more", so the line stays one line.
SHOWN_RECIPIENTS = 3


def _recipients(message: EmailMessage) -> str:
    found = message.recipients()
    shown = ", ".join(found[:SHOWN_RECIPIENTS])
    more = len(found) - SHOWN_RECIPIENTS
    return f"{shown} (+{more} more)" if more > 0 else shown


def _shown(path: Path) -> str:
    """The path as short as it can be said from where the command was started (var/mail/…)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class EmlFileBackend(BaseEmailBackend):
    def __init__(
        self, fail_silently: bool = False, *, file_path: str | Path | None = None, **kwargs: Any
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        configured = file_path or getattr(settings, "EMAIL_FILE_PATH", None)
        self.directory = Path(configured or Path(settings.VAR_DIR) / "mail")
        self._lock = threading.Lock()

    def _write(self, message: EmailMessage) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Sortable by time; the random part keeps web and worker processes apart.
        name = f"{timezone.localtime():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
        path = self.directory / name
        path.write_bytes(message.message().as_bytes())
        return path

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                try:
                    path = self._write(message)
                except Exception:
                    if not self.fail_silently:
                        raise
                    continue
                # The subject is a header: Django refuses line breaks in it, so this is one line.
                logger.info(
                    "email to %s: %r -> %s", _recipients(message), message.subject, _shown(path)
                )
                sent += 1
        return sent
