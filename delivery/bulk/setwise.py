"""New deliveries written set-based (PostgreSQL): one COPY and one INSERT ... SELECT a chunk.

The valid items of a chunk are copied into a temporary staging table and inserted by one
`INSERT ... SELECT` that joins each row to its calendar's days for the due date
(`agencies.calendars.due_day_sql`, the rule the recompute after a calendar change uses too)
and for the working days taken (`delivery.clock.completion_sql`), `ON CONFLICT DO NOTHING`.
No model instance is built and no value goes through the ORM.

The delivery table is partitioned by month (delivery/partitions.py): no unique index holds
`(agency, reference)`, its claim table's trigger does, and skips a taken reference while the
transaction-local SKIP_DUPLICATES is on (set around the statement). A tracking code drawn
twice is never skipped there: it fails the statement, and the caller writes the chunk row by
row (with new codes).

Python keeps, per item, what needs no calendar row: the standard version in force at
submission (over the versions the catalogue loaded once), the moment the clock starts and
its local date (`delivery.clock.clock_start_moment`, `agencies.calendars.local_date`), the
status (`delivery.clock.status_of`) and a tracking code; hour and minute promises (counted
within service hours, a walk over the days) keep `agencies.calendars.clock_due` over the
calendar preloaded once.

What the statement does not insert goes back to the caller (`ChunkWriter`), whose row path
handles it as before: a reference that already exists (an update, or a concurrent writer),
a date outside the calendar's span, a service without a standard in force (each refused
there with its message), or a tracking code drawn twice.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from agencies.calendars import CALENDAR_DAYS, DAY_UNITS, WORKING_DAYS, clock_due, due_day_sql
from agencies.calendars import local_date as to_local_date
from agencies.models import CalendarDay
from core.errors import ApplicationError
from core.partitioning import skipping_duplicates
from delivery.bulk.items import CleanItem
from delivery.bulk.plan import AgencyCatalogue
from delivery.bulk.results import ItemResult
from delivery.clock import clock_start_moment, completion_sql, status_of
from delivery.models import ServiceDelivery, new_tracking_code

STAGE = "delivery_bulk_stage"
# The staging table's columns, in COPY order.
_STAGE_COLUMNS = (
    ("unit_id", "integer"),
    ("service_id", "integer"),
    ("version_id", "integer"),
    ("calendar_id", "integer"),
    ("reference", "text"),
    ("tracking_code", "text"),
    ("channel", "text"),
    ("status", "text"),
    ("submitted_at", "timestamptz"),
    ("file_complete_at", "timestamptz"),
    ("clock_started_at", "timestamptz"),
    ("clock_start_date", "date"),
    ("completed_at", "timestamptz"),
    ("completed_date", "date"),
    ("outcome", "text"),
    ("refusal_reason", "text"),
    ("fee_charged", "bigint"),
    ("promise_value", "integer"),
    ("promise_unit", "text"),
    ("promised_cost", "bigint"),
    ("due_date", "date"),
    ("due_at", "timestamptz"),
)
_CREATE_STAGE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ("
    + ", ".join(f"{name} {kind}" for name, kind in _STAGE_COLUMNS)
    + ") ON COMMIT DELETE ROWS"
)
_COPY_STAGE = f"COPY {STAGE} ({', '.join(name for name, _kind in _STAGE_COLUMNS)}) FROM STDIN"

# The columns written, and what each is in the SELECT over the staging table `s` joined to
# the calendar days: `st` the clock-start day, `tw`/`tc` the due day of a promise in working
# or calendar days, `en` the day of completion.
_WRITTEN = (
    ("agency_id", "%(agency)s"),
    ("unit_id", "s.unit_id"),
    ("service_id", "s.service_id"),
    ("version_id", "s.version_id"),
    ("calendar_id", "s.calendar_id"),
    ("reference", "s.reference"),
    ("tracking_code", "s.tracking_code"),
    ("channel", "s.channel"),
    ("status", "s.status"),
    ("submitted_at", "s.submitted_at"),
    ("file_complete_at", "s.file_complete_at"),
    ("clock_started_at", "s.clock_started_at"),
    ("clock_start_date", "s.clock_start_date"),
    ("completed_at", "s.completed_at"),
    ("outcome", "s.outcome"),
    ("refusal_reason", "s.refusal_reason"),
    ("fee_charged", "s.fee_charged"),
    ("promise_value", "s.promise_value"),
    ("promise_unit", "s.promise_unit"),
    ("promised_cost", "s.promised_cost"),
    ("paused_working_days", "0"),
    ("paused_minutes", "0"),
    (
        "due_date",
        f"CASE s.promise_unit WHEN '{WORKING_DAYS}' THEN tw.date"
        f" WHEN '{CALENDAR_DAYS}' THEN tc.date ELSE s.due_date END",
    ),
    (
        "due_at",
        f"CASE s.promise_unit WHEN '{WORKING_DAYS}' THEN tw.day_end"
        f" WHEN '{CALENDAR_DAYS}' THEN tc.day_end ELSE s.due_at END",
    ),
    ("extension_reason", "''"),
    (
        "working_days_taken",
        completion_sql(
            start="st",
            end="en",
            start_date="s.clock_start_date",
            end_date="s.completed_date",
            paused_working_days="0",
        ),
    ),
    ("created_at", "%(now)s"),
    ("updated_at", "%(now)s"),
)
_DAY_UNIT_LIST = ", ".join(f"'{unit}'" for unit in DAY_UNITS)
_INSERT = f"""
    INSERT INTO {{delivery}} ({", ".join(name for name, _value in _WRITTEN)})
    SELECT {", ".join(value for _name, value in _WRITTEN)}
    FROM {STAGE} AS s
    LEFT JOIN {{day}} AS st
      ON st.calendar_id = s.calendar_id AND st.date = s.clock_start_date
    LEFT JOIN {{day}} AS tw
      ON s.promise_unit = '{WORKING_DAYS}' AND tw.calendar_id = s.calendar_id
      AND {due_day_sql(start="st", target="tw", days="s.promise_value", working=True)}
    LEFT JOIN {{day}} AS tc
      ON s.promise_unit = '{CALENDAR_DAYS}' AND tc.calendar_id = s.calendar_id
      AND {due_day_sql(start="st", target="tc", days="s.promise_value", working=False)}
    LEFT JOIN {{day}} AS en
      ON en.calendar_id = s.calendar_id AND en.date = s.completed_date
    WHERE (s.clock_start_date IS NULL OR s.promise_unit NOT IN ({_DAY_UNIT_LIST})
           OR tw.date IS NOT NULL OR tc.date IS NOT NULL)
      AND (s.completed_date IS NULL OR s.clock_start_date IS NULL
           OR s.completed_date <= s.clock_start_date
           OR (st.date IS NOT NULL AND en.date IS NOT NULL))
    ON CONFLICT DO NOTHING
    RETURNING id, reference
"""  # noqa: S608 (constants only)


def supported() -> bool:
    """The set-based path needs PostgreSQL (COPY, a temporary table); elsewhere (the
    embedded SQLite default) every item takes the row path."""
    return connection.vendor == "postgresql"


class _Staged(NamedTuple):
    item: CleanItem
    row: tuple[object, ...]


class SetWriter:
    """Inserts the new deliveries of a chunk of one agency's valid items, set-based."""

    def __init__(self, *, catalogue: AgencyCatalogue) -> None:
        self.catalogue = catalogue
        self.sql = _INSERT.format(
            delivery=ServiceDelivery._meta.db_table, day=CalendarDay._meta.db_table
        )

    def _stage(self, item: CleanItem) -> tuple[object, ...] | None:
        """The staging row of an item, or None when the row path must take it (no standard
        in force, or an hour promise outside the calendar's span: refused there)."""
        service = item.service
        try:
            version = self.catalogue.version_in_force(service, item.submitted_at)
        except ApplicationError:
            return None
        calendar = self.catalogue.calendar_for(service.unit)
        offset = calendar.utc_offset_hours
        started_at = clock_start_moment(
            version.clock_start,
            submitted_at=item.submitted_at,
            file_complete_at=item.file_complete_at,
        )
        start_date = None if started_at is None else to_local_date(started_at, offset)
        completed_date = (
            None if item.completed_at is None else to_local_date(item.completed_at, offset)
        )
        due_date: dt.date | None = None
        due_at: dt.datetime | None = None
        if started_at is not None and version.promise_unit not in DAY_UNITS:
            unit = service.unit
            try:
                clock = clock_due(
                    self.catalogue.days(calendar.pk),
                    started_at=started_at,
                    promise_value=version.promise_value,
                    promise_unit=version.promise_unit,
                    service_hours=(unit.opens_at, unit.closes_at),
                )
            except ApplicationError:
                return None
            due_date, due_at = clock.due_date, clock.due_at
        status = status_of(_Facts(item.outcome, item.completed_at, started_at), paused=False)
        return (
            service.unit_id,
            service.pk,
            version.pk,
            calendar.pk,
            item.reference,
            new_tracking_code(),
            item.channel,
            status,
            item.submitted_at,
            item.file_complete_at,
            started_at,
            start_date,
            item.completed_at,
            completed_date,
            item.outcome,
            item.refusal_reason,
            item.fee_charged,
            version.promise_value,
            version.promise_unit,
            version.promised_cost,
            due_date,
            due_at,
        )

    def insert(self, items: list[CleanItem]) -> tuple[list[ItemResult], list[CleanItem]]:
        """Insert the items that are new deliveries, inside the caller's transaction.

        Returns the results of the items inserted and the items left for the row path.
        """
        staged: list[_Staged] = []
        left: list[CleanItem] = []
        for item in items:
            row = self._stage(item)
            if row is None:
                left.append(item)
            else:
                staged.append(_Staged(item, row))
        if not staged:
            return [], left
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            with cursor.copy(_COPY_STAGE) as copy:
                for entry in staged:
                    copy.write_row(entry.row)
            with skipping_duplicates():
                cursor.execute(
                    self.sql, {"agency": self.catalogue.agency.pk, "now": timezone.now()}
                )
                written = {reference: pk for pk, reference in cursor.fetchall()}
            # Empty for the next chunk, also when the caller's transaction goes on.
            cursor.execute(f"DELETE FROM {STAGE}")  # noqa: S608 (a constant)
        results: list[ItemResult] = []
        for entry in staged:
            pk = written.get(entry.item.reference)
            if pk is None:
                left.append(entry.item)
            else:
                results.append(
                    ItemResult(entry.item.index, entry.item.reference, "created", delivery_id=pk)
                )
        return results, left


class _Facts(NamedTuple):
    outcome: str
    completed_at: dt.datetime | None
    clock_started_at: dt.datetime | None
