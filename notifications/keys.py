"""The one home of the outbox's idempotency keys.

A notification is sent at most once per key: the key is unique in the table
(`notification_once`; on PostgreSQL, where the outbox is partitioned by month, kept by a
claim table: notifications/partitions.py), and every writer builds it here, in Python or,
where one SQL statement writes the rows (the sweep on PostgreSQL), as the SQL expression
derived below from the same layout. The key is never read back: what a message is about lives in the
row's subject columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib

KEY_MAX_LENGTH = 200  # Notification.idempotency_key
SEPARATOR = ":"
# A key too long for the column keeps its other parts and hashes the recipient.
HASHED_PREFIX = "sha256-"
HASHED_LENGTH = 32


def _layout(event: str, subject: str, recipient: str, channel: str, level: str) -> list[str]:
    """The parts of a key, in order: the one place that says how a key is laid out."""
    return [event, subject, recipient, channel, level]


def idempotency_key(*, event: str, subject: str, recipient: str, channel: str, level: int) -> str:
    """(event, subject, recipient, channel, level) as a unique key of at most 200 chars.

    The recipient is lowercased (addresses match case-insensitively); a key that would be
    longer than the column carries the SHA-256 of the recipient instead.
    """
    recipient = recipient.lower()
    key = SEPARATOR.join(_layout(event, subject, recipient, channel, str(level)))
    if len(key) <= KEY_MAX_LENGTH:
        return key
    hashed = HASHED_PREFIX + hashlib.sha256(recipient.encode()).hexdigest()[:HASHED_LENGTH]
    return SEPARATOR.join(_layout(event, subject, hashed, channel, str(level)))[:KEY_MAX_LENGTH]


def sql_text(value: str) -> str:
    """A constant as a SQL string literal (for `idempotency_key_sql`)."""
    return "'" + value.replace("'", "''") + "'"


def idempotency_key_sql(
    *, event: str, subject: str, recipient: str, channel: str, level: str
) -> str:
    """The same key as a PostgreSQL expression; each argument is a SQL expression.

    E.g. `idempotency_key_sql(event=sql_text("breach_created"), subject="new.id", ...)`.
    Identical to `idempotency_key` for the same values (tests/notifications/test_keys.py
    holds them to it); PostgreSQL only (`sha256`, `convert_to`).
    """
    sep = f" || {sql_text(SEPARATOR)} || "

    def join(parts: list[str]) -> str:
        return "(" + sep.join(f"CAST(({part}) AS text)" for part in parts) + ")"

    lowered = f"lower(CAST(({recipient}) AS text))"
    plain = join(_layout(event, subject, lowered, channel, level))
    digest = f"encode(sha256(convert_to({lowered}, 'UTF8')), 'hex')"
    hashed = f"{sql_text(HASHED_PREFIX)} || left({digest}, {HASHED_LENGTH})"
    long = join(_layout(event, subject, hashed, channel, level))
    return (
        f"(CASE WHEN char_length({plain}) <= {KEY_MAX_LENGTH} THEN {plain} "
        f"ELSE left({long}, {KEY_MAX_LENGTH}) END)"
    )


def digest_key(*, unit_id: int, recipient: str, date: dt.date) -> str:
    """The key of a unit's daily digest to one recipient on one day."""
    parts = ["digest", str(unit_id), recipient.lower(), date.isoformat()]
    return SEPARATOR.join(parts)[:KEY_MAX_LENGTH]
