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
