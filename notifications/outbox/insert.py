"""Writing outbox rows once per idempotency key: the one home of "insert, skipping the
keys already taken" (ON CONFLICT DO NOTHING semantics).

On PostgreSQL the outbox is partitioned by month (notifications/partitions.py) and its
unique key is kept by a claim table's triggers (core/partitioning.py): a plain INSERT of a
taken key fails under the old constraint's name (`notification_once`), as it did; a
writer that wants the duplicate skipped must turn the transaction-local setting
SKIP_DUPLICATES on, and `ON CONFLICT DO NOTHING` (no conflict target: a partitioned table
has no unique index on the key) lets the row trigger skip it. `insert_notifications` does
both for exactly its own statements and then puts the setting back, so that a later
plain insert in the same transaction still fails loudly. On an unpartitioned table (SQLite,
or PostgreSQL before the conversion) the setting is unread and the unique constraint does
the skipping, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.partitioning import skipping_duplicates
from notifications.models import Notification


def insert_notifications(rows: Sequence[Notification], *, batch_size: int | None = None) -> None:
    """Insert outbox rows, skipping (silently) those whose idempotency key is taken, in
    whichever month the row holding it lives. As `bulk_create(ignore_conflicts=True)`: the
    rows get no primary key back."""
    if not rows:
        return
    with skipping_duplicates():
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=batch_size)
