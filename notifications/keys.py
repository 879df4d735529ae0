"""The one home of the outbox's idempotency keys.

A notification is sent at most once per key: the key is unique in the table
(`notification_once`), and every writer builds it here. The key is never read back:
what a message is about lives in the row's subject columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib

KEY_MAX_LENGTH = 200  # Notification.idempotency_key


def idempotency_key(*, event: str, subject: str, recipient: str, channel: str, level: int) -> str:
    """(event, subject, recipient, channel, level) as a unique key of at most 200 chars."""
    key = f"{event}:{subject}:{recipient.lower()}:{channel}:{level}"
    if len(key) <= KEY_MAX_LENGTH:
        return key
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:32]
    return f"{event}:{subject}:sha256-{digest}:{channel}:{level}"[:KEY_MAX_LENGTH]


def digest_key(*, unit_id: int, recipient: str, date: dt.date) -> str:
    """The key of a unit's daily digest to one recipient on one day."""
    return f"digest:{unit_id}:{recipient.lower()}:{date.isoformat()}"[:KEY_MAX_LENGTH]
