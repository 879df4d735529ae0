"""Breaches partitioned by month on PostgreSQL (core/partitioning.py has the design), and
the registry of every table so partitioned (deliveries and the outbox too).

`oversight_breach` is range-partitioned by `occurred_at` (the review desk's order and date
windows). Its "one breach per fact" key `(kind, subject_type, subject_id, period)` cannot
include the month, so it is kept by the unpartitioned claim table `oversight_breachclaim`
(BreachClaim), under the old constraint's name `breach_unique_fact`.

The registry of every partitioned table (`PARTITIONED`, driving the daily beat task and the
`partitions` command) lives here, the lowest app that sees them all: deliveries
(delivery/partitions.py) and the outbox (notifications/partitions.py).
"""

from __future__ import annotations

import datetime as dt

from core.partitioning import Claim, Spec, ensure_partitions
from delivery.partitions import DELIVERIES
from notifications.partitions import NOTIFICATIONS

BREACHES = Spec(
    table="oversight_breach",
    key="occurred_at",
    claims=(
        Claim(
            table="oversight_breachclaim",
            columns=("kind", "subject_type", "subject_id", "period"),
            constraint="breach_unique_fact",
            lookup_index="breach_fact_lookup",
        ),
    ),
)

# Every table partitioned by month: the beat task keeps their partitions ahead (the
# deliveries' and the outbox's specs live in their apps, which cannot import this module).
PARTITIONED = [BREACHES.table, DELIVERIES.table, NOTIFICATIONS.table]


def create_partitions(
    *, today: dt.date | None = None, months_ahead: int | None = None
) -> list[str]:
    """The missing month partitions, created ahead (a no-op off PostgreSQL)."""
    if months_ahead is None:
        return ensure_partitions(PARTITIONED, today=today)
    return ensure_partitions(PARTITIONED, today=today, months_ahead=months_ahead)
