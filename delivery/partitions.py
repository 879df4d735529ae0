"""Deliveries partitioned by month on PostgreSQL (core/partitioning.py has the design).

`delivery_servicedelivery` is range-partitioned by `submitted_at`: every request has one,
it is set once at submission (an import may correct it: the row moves to its month and
keeps its claims), and the figures, Open311 and the review desk read deliveries by period.
Its two "exactly once" keys cannot include the month, so each is kept by an unpartitioned
claim table under the old constraint's name:

- `(agency_id, reference)`: DeliveryReferenceClaim, `delivery_reference_unique`. The bulk
  importer locks these claims to serialise writers of the same references
  (delivery/bulk/apply.py); the set-based insert skips taken references in SKIP_DUPLICATES
  mode (delivery/bulk/setwise.py).
- `tracking_code`: DeliveryTrackingClaim, `delivery_servicedelivery_tracking_code_key`.
  Never skipped, even in SKIP_DUPLICATES mode: a code drawn twice fails the statement (the
  importer then writes the chunk row by row, with new codes), so that a skipped row never
  leaves its reference claimed.

Foreign keys into deliveries are `db_constraint=False` (Django applies `on_delete`), so a
`TRUNCATE ... CASCADE` no longer reaches the tables pointing into deliveries, nor the claims:
`truncate_sql` names them all (benchmarks that reload deliveries).
"""

from __future__ import annotations

from core.partitioning import Claim, Spec
from delivery.models import ServiceDelivery

DELIVERIES = Spec(
    table="delivery_servicedelivery",
    key="submitted_at",
    claims=(
        Claim(
            table="delivery_deliveryreferenceclaim",
            columns=("agency_id", "reference"),
            constraint="delivery_reference_unique",
            lookup_index="delivery_reference_lookup",
        ),
        Claim(
            table="delivery_deliverytrackingclaim",
            columns=("tracking_code",),
            constraint="delivery_servicedelivery_tracking_code_key",
            lookup_index="delivery_tracking_code_lookup",
            skippable=False,
        ),
    ),
)


def truncate_sql() -> str:
    """`TRUNCATE` of every delivery, its claims and the rows pointing into deliveries (and,
    by CASCADE, what points into those with a database foreign key)."""
    pointing = sorted(
        {rel.related_model._meta.db_table for rel in ServiceDelivery._meta.related_objects}
    )
    tables = [DELIVERIES.table, *(claim.table for claim in DELIVERIES.claims), *pointing]
    return f"TRUNCATE {', '.join(tables)} CASCADE"
