"""Record many deliveries at once: the bulk API and the CSV import share this package.

Every item is validated in Python first (`items`: types, dates, fees, service, permission,
duplicates), then the valid ones are written in chunks (`apply`), each chunk one
transaction. On PostgreSQL the new deliveries of a chunk are written set-based
(`setwise`: one COPY into a staging table and one `INSERT ... SELECT` that joins the
calendar days for the due dates, skipping references that exist); what that statement
leaves (references that exist, refusals) is planned row by row (`plan`: the row each
becomes, with its clock) and written with the references locked, by one set-based UPDATE
of the existing deliveries and one INSERT of the new ones: idempotent on the agency's own
reference, so sending the same items twice never duplicates a delivery (on PostgreSQL the
table is partitioned by month and the reference kept by a claim table,
delivery/partitions.py). `recorder.DeliveryRecorder` runs the steps; `results` is what the
caller gets back.

Items may also carry a pause (`paused_at`, `pause_reason`, optionally `resumed_at`). Those
items are written one by one, each in a savepoint that holds the upsert and the calls to
the real `delivery_pause`/`delivery_resume`: a refused pause undoes that item alone. Items
without a pause keep the chunked path.

The clock is that of `delivery.services.delivery_record` (`delivery.clock` over
`agencies.calendars.clock_due`), computed against each calendar's days preloaded once per
request (`CalendarDays.preloaded`) instead of several indexed lookups per item; the
set-based writer uses its SQL twins (`agencies.calendars.due_day_sql`, also used by the
recompute after a calendar change, and `delivery.clock.completion_sql`). Tests check that
all of them give the same due dates (tests/delivery/ingest/test_setwise.py,
tests/delivery/test_one_clock.py).
"""

from delivery.bulk.apply import UPDATE_FIELDS, ChunkWriter
from delivery.bulk.items import (
    FIRST_YEAR,
    ITEM_FIELDS,
    LAST_YEAR,
    MAX_FEE,
    PAUSE_REASON_MAX_LENGTH,
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    CleanItem,
    ItemError,
    ItemValidator,
    localize,
    parse_fee,
    parse_moment,
)
from delivery.bulk.plan import AgencyCatalogue
from delivery.bulk.recorder import CHUNK_SIZE, MAX_ITEMS, DeliveryRecorder
from delivery.bulk.results import NON_FIELD, ItemResult, totals

__all__ = [
    "CHUNK_SIZE",
    "FIRST_YEAR",
    "ITEM_FIELDS",
    "LAST_YEAR",
    "MAX_FEE",
    "MAX_ITEMS",
    "NON_FIELD",
    "PAUSE_REASON_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "REFERENCE_MAX_LENGTH",
    "UPDATE_FIELDS",
    "AgencyCatalogue",
    "ChunkWriter",
    "CleanItem",
    "DeliveryRecorder",
    "ItemError",
    "ItemResult",
    "ItemValidator",
    "localize",
    "parse_fee",
    "parse_moment",
    "totals",
]
