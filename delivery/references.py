"""The agency's reference of a service request (*nomor registrasi*): one delivery per
(agency, reference), whoever writes it (the staff form, the API, an import).

On PostgreSQL the rule is kept by `DeliveryReferenceClaim` (an unpartitioned table written by
triggers: the deliveries are partitioned by month and a unique index cannot span months).
Every writer of a reference that may already exist locks its claim first: the claim never
moves, while the delivery row moves to another month's partition when its submission time
is corrected, and a writer waiting on a moved row would fail. A claim without a live row
is a reference whose month was detached for archive: it is never recorded again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError
from django.utils.translation import gettext_lazy

from delivery.models import DeliveryReferenceClaim

# The unique constraint's name: on the claim table (PostgreSQL) as on the delivery table.
REFERENCE_CONSTRAINT = "delivery_reference_unique"
# How often a write is tried again after a concurrent writer inserted the same reference
# first (the next try finds it and updates it; one is almost always enough).
RACE_RETRIES = 3
ARCHIVED_REFERENCE = gettext_lazy(
    "This reference belongs to a month archived from the live registry: it cannot be "
    "recorded again."
)


def is_reference_race(error: IntegrityError) -> bool:
    """The unique violation of a reference inserted meanwhile by another writer."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == REFERENCE_CONSTRAINT
    # SQLite names the columns, not the constraint.
    return "agency_id, delivery_servicedelivery.reference" in str(error)


def lock_claims(agency_id: int, references: Iterable[str]) -> set[str]:
    """Lock the claims of those references that exist, in one order (two writers of the
    same references never deadlock), and return them. Inside a transaction. Empty on
    SQLite, which keeps the rule on the delivery table itself."""
    return set(
        DeliveryReferenceClaim.objects.select_for_update()
        .filter(agency_id=agency_id, reference__in=sorted(set(references)))
        .order_by("reference")
        .values_list("reference", flat=True)
    )
