"""The outbox partitioned by month on PostgreSQL (core/partitioning.py has the design).

`notifications_notification` is range-partitioned by `created_at` (set once, on insert: the
drainer's order and the inbox's newest-first lists). Its "each message once" key
`idempotency_key` cannot include the month, so it is kept by the unpartitioned claim table
`notifications_notificationclaim` (NotificationClaim), under the old constraint's name
`notification_once`. Every writer that skips duplicates goes through
`notifications.outbox.insert` (SKIP_DUPLICATES for the insert only); a plain insert of a
taken key fails as before. The months ahead are kept by oversight's daily task
(oversight/partitions.py lists every partitioned table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from core.partitioning import Claim, Spec

NOTIFICATIONS = Spec(
    table="notifications_notification",
    key="created_at",
    claims=(
        Claim(
            table="notifications_notificationclaim",
            columns=("idempotency_key",),
            constraint="notification_once",
            lookup_index="notification_key_lookup",
        ),
    ),
)


def by_id_and_month(rows: Iterable[tuple[int, dt.datetime]]) -> Q:
    """Outbox rows by id, also bounded by the span of their `created_at` (the partition key
    on PostgreSQL): a statement then reads only those months instead of probing each."""
    pairs = list(rows)
    created = [created_at for _pk, created_at in pairs]
    if not pairs:
        return Q(pk__in=[])
    return Q(
        pk__in=[pk for pk, _created in pairs],
        created_at__gte=min(created),
        created_at__lte=max(created),
    )
