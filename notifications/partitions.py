"""The outbox partitioned by month on PostgreSQL (core/partitioning.py has the design).

`notifications_notification` is range-partitioned by `created_at` (set once, on insert: the
drainer's order and the inbox's newest-first lists). Its "each message once" key
`idempotency_key` cannot include the month, so it is kept by the unpartitioned claim table
`notifications_notificationclaim` (NotificationClaim), under the old constraint's name
`notification_once`. Every writer that skips duplicates goes through
`notifications.outbox.insert` (SKIP_DUPLICATES for the insert only); a plain insert of a
taken key fails as before. The months ahead are kept by oversight's daily task
(oversight/partitions.py lists every partitioned table).

A statement that names rows by id alone is planned over every live month and probes each:
every statement on rows already read carries their `created_at` too, through
`by_id_and_month` (the drainer's claim, load and record, the fan-out's updates, stale claims
put back, a staff resend, the digest). Left unbounded, because their caller has the id
alone: the inbox's "mark read" link and the admin's change page (an id in the URL), and
Django's deletion collector (cascades and SET_NULL by id).
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
    on PostgreSQL): a statement then reads only those months instead of probing each. One
    row: its id and its `created_at` exactly."""
    pairs = list(rows)
    created = [created_at for _pk, created_at in pairs]
    if not pairs:
        return Q(pk__in=[])
    if len(pairs) == 1:
        pk, created_at = pairs[0]
        return Q(pk=pk, created_at=created_at)
    return Q(
        pk__in=[pk for pk, _created in pairs],
        created_at__gte=min(created),
        created_at__lte=max(created),
    )
