"""Writing valid items: each chunk one transaction, idempotent on the agency's own reference:
the chunk's references are locked, the existing deliveries updated by one set-based
`UPDATE ... FROM (VALUES ...)` and the new ones inserted by one INSERT.

No `ON CONFLICT (agency, reference) DO UPDATE`: on PostgreSQL the delivery table is
partitioned by month and no unique index holds the reference (its claim table does,
delivery/partitions.py). Two importers of the same references are serialised by the lock on
the references' claims (existing ones) or by the claim's index entry (new ones): the second
to insert a new reference waits for the first, gets the unique violation once it commits,
and writes its chunk again, now as an update (`_write_chunk`).

Items that carry a pause are written one by one, each in a savepoint that holds the upsert
and the calls to the real `delivery_pause`/`delivery_resume` (matched on the pause's
start, so a re-send changes nothing): a refused pause undoes that item alone.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.utils.translation import gettext as _

from agencies.models import Agency
from core.errors import ApplicationError
from delivery.bulk import setwise
from delivery.bulk.items import CleanItem
from delivery.bulk.plan import AgencyCatalogue
from delivery.bulk.results import NON_FIELD, ItemResult, refused
from delivery.models import DeliveryPause, ServiceDelivery
from delivery.references import ARCHIVED_REFERENCE, RACE_RETRIES, is_reference_race, lock_claims
from delivery.services import delivery_pause, delivery_resume

# What an update may change; the promise (version, unit, calendar) stays that of submission.
UPDATE_FIELDS = [
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "outcome",
    "refusal_reason",
    "fee_charged",
    "channel",
    "clock_started_at",
    "clock_start_date",
    "due_date",
    "due_at",
    "working_days_taken",
    "status",
    "updated_at",
]
# Rows per UPDATE (parameters: SQLite allows 32766 a statement).
UPDATE_BATCH = 1000


def _concrete(name: str) -> models.Field[Any, Any]:
    field = ServiceDelivery._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _update(rows: list[tuple[ServiceDelivery, Any]]) -> None:
    """Write UPDATE_FIELDS of existing deliveries set-based: `UPDATE ... FROM (VALUES ...)`
    matched on the id and the month key the row had (PostgreSQL prunes to its partition;
    a new submission time moves the row to its month). `rows`: (delivery, old key)."""
    meta = ServiceDelivery._meta
    fields = [_concrete(name) for name in UPDATE_FIELDS]
    key = _concrete("submitted_at")
    table = connection.ops.quote_name(meta.db_table)
    columns = [meta.pk, key, *fields]
    if connection.vendor == "postgresql":
        # Typed, so that a column that is NULL in every row is still of its type.
        cells = [f"%s::{column.db_type(connection)}" for column in columns]
    else:
        cells = ["%s"] * len(columns)
    row_sql = f"({', '.join(cells)})"
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.attname)} = v.column{position}"
        for position, field in enumerate(fields, start=3)
    )
    for start in range(0, len(rows), UPDATE_BATCH):
        batch = rows[start : start + UPDATE_BATCH]
        params: list[Any] = []
        for delivery, old_key in batch:
            params.append(delivery.pk)
            params.append(key.get_db_prep_save(old_key, connection))
            for field in fields:
                # pre_save: `updated_at` (auto_now) takes the moment, as save() does.
                value = field.pre_save(delivery, add=False)
                params.append(field.get_db_prep_save(value, connection))
        sql = (
            f"UPDATE {table} SET {assignments} "  # noqa: S608 (model names only)
            f"FROM (VALUES {', '.join([row_sql] * len(batch))}) AS v "
            f"WHERE {table}.id = v.column1 AND {table}.{key.attname} = v.column2"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


class ChunkWriter:
    """Writes the valid items of one agency, chunk by chunk, as planned by the catalogue."""

    def __init__(self, *, agency: Agency, catalogue: AgencyCatalogue, acting_user: Any) -> None:
        self.agency = agency
        self.catalogue = catalogue
        self.acting_user = acting_user
        self.set_writer = setwise.SetWriter(catalogue=catalogue)

    def _write_chunk(self, items: list[CleanItem]) -> list[ItemResult]:
        """Write the items (inside the caller's transaction); written again, in a savepoint,
        when a concurrent importer inserted one of the new references first."""
        for attempt in range(RACE_RETRIES + 1):
            try:
                with transaction.atomic():
                    return self._write_chunk_once(items)
            except IntegrityError as error:
                if attempt == RACE_RETRIES or not is_reference_race(error):
                    raise
        raise AssertionError("unreachable")

    def _write_chunk_once(self, items: list[CleanItem]) -> list[ItemResult]:
        references = sorted({item.reference for item in items})
        # The claims first (delivery/references.py): they never move, the rows may.
        claimed = lock_claims(self.agency.pk, references)
        existing = {
            d.reference: d
            for d in ServiceDelivery.objects.select_for_update(of=("self",))
            .select_related("version", "unit")
            .filter(agency=self.agency, reference__in=references)
        }
        # A claim without a live row: the request's month was detached for archive
        # (`manage.py partitions detach`); the claim stays so that it is never recorded twice.
        archived = claimed - existing.keys()
        paused_ids = set(
            DeliveryPause.objects.filter(
                delivery_id__in=[d.pk for d in existing.values()], ended_at__isnull=True
            ).values_list("delivery_id", flat=True)
        )
        results: list[ItemResult] = []
        created: list[tuple[ServiceDelivery, ItemResult]] = []
        updated: list[tuple[ServiceDelivery, ItemResult, Any]] = []
        for item in items:
            if item.reference in archived:
                errors = {"reference": [str(ARCHIVED_REFERENCE)]}
                results.append(ItemResult(item.index, item.reference, "error", errors))
                continue
            before = existing.get(item.reference)
            old_key = None if before is None else before.submitted_at
            resumed = None  # the savepoint before a pause ended for this item, if any
            if (
                before is not None
                and before.pk in paused_ids
                and item.completed_at is not None
                and before.service_id == item.service.pk
            ):
                # Completed while the clock was stopped: end the pause at completion through
                # the real service, as delivery_record does, then build on the result. In a
                # savepoint: if the item fails after all, the pause is as it was.
                resumed = transaction.savepoint()
                try:
                    before = delivery_resume(
                        delivery=before, at=item.completed_at, acting_user=self.acting_user
                    )
                except ApplicationError as error:
                    transaction.savepoint_rollback(resumed)
                    if error.field == "at":
                        errors = {
                            "completed_at": [
                                _("The request cannot be completed before its clock stopped.")
                            ]
                        }
                        results.append(ItemResult(item.index, item.reference, "error", errors))
                    else:
                        results.append(refused(item.index, item.reference, error))
                    continue
                existing[item.reference] = before
                paused_ids.discard(before.pk)
            try:
                delivery = self.catalogue.plan(
                    item, before, paused=before is not None and before.pk in paused_ids
                )
            except ApplicationError as error:
                if resumed is not None:
                    transaction.savepoint_rollback(resumed)
                results.append(refused(item.index, item.reference, error))
                continue
            if before is None:
                result = ItemResult(item.index, item.reference, "created")
                created.append((delivery, result))
            else:
                result = ItemResult(item.index, item.reference, "updated")
                updated.append((delivery, result, old_key))
            results.append(result)
        if updated:
            _update([(delivery, old_key) for delivery, _result, old_key in updated])
            for delivery, result, _old_key in updated:
                result.delivery_id = delivery.pk
        if created:
            # In the references' order, as the locks above (two importers wait, not deadlock).
            created.sort(key=lambda row: row[0].reference)
            ServiceDelivery.objects.bulk_create([delivery for delivery, _result in created])
            for delivery, result in created:
                result.delivery_id = delivery.pk
        return results

    def _apply_pause(self, item: CleanItem, delivery_id: int) -> None:
        """Pause (and resume) the written delivery through the real service functions.

        The pause is matched on its start: one already recorded is not recorded again.
        Raises ApplicationError when the transition is refused.
        """
        assert item.paused_at is not None
        delivery = ServiceDelivery.objects.get(pk=delivery_id)
        pauses = list(delivery.pauses.all())
        pause = next((p for p in pauses if p.started_at == item.paused_at), None)
        if pause is None:
            if any(
                p.started_at > item.paused_at
                or (p.ended_at is not None and p.ended_at > item.paused_at)
                for p in pauses
            ):
                raise ApplicationError(
                    _("This pause overlaps or precedes a pause already recorded."),
                    field="paused_at",
                )
            try:
                pause = delivery_pause(
                    delivery=delivery,
                    reason=item.pause_reason,
                    at=item.paused_at,
                    acting_user=self.acting_user,
                )
            except ApplicationError as error:
                if error.code == "invalid_transition":
                    raise ApplicationError(
                        _("Only a request in process can be paused."),
                        code=error.code,
                        field="paused_at",
                    ) from None
                raise
        if item.resumed_at is None:
            return
        if pause.ended_at is None:
            try:
                delivery_resume(delivery=delivery, at=item.resumed_at, acting_user=self.acting_user)
            except ApplicationError as error:
                raise ApplicationError(
                    _("The clock cannot resume before it stopped.")
                    if error.field == "at"
                    else _("This request is not paused."),
                    code=error.code,
                    field="resumed_at",
                ) from None
        elif pause.ended_at != item.resumed_at:
            raise ApplicationError(
                _("This pause already ended at another time."), field="resumed_at"
            )

    def _write_paused(self, item: CleanItem) -> ItemResult:
        """One item with a pause: the upsert and the pause in one savepoint."""
        try:
            with transaction.atomic():
                (result,) = self._write_chunk([item])
                if result.result != "error":
                    assert result.delivery_id is not None
                    self._apply_pause(item, result.delivery_id)
                return result
        except ApplicationError as error:
            return refused(item.index, item.reference, error)
        except DatabaseError:
            return ItemResult(
                item.index,
                item.reference,
                "error",
                {NON_FIELD: [_("The database refused this item; try it again.")]},
            )

    def write(self, items: list[CleanItem]) -> list[ItemResult]:
        """Write one chunk of valid items; one result per item."""
        paused = [item for item in items if item.paused_at is not None]
        if paused:
            plain = [item for item in items if item.paused_at is None]
            results = self.write(plain) if plain else []
            return results + [self._write_paused(item) for item in paused]
        try:
            with transaction.atomic():
                if not setwise.supported():
                    return self._write_chunk(items)
                # New deliveries in one statement; the rest (updates, refusals) row by row.
                results, left = self.set_writer.insert(items)
                return results + (self._write_chunk(left) if left else [])
        except DatabaseError:
            # One item the database refused (e.g. a concurrent writer) must not lose the
            # others: write them one by one, each in its own savepoint.
            results = []
            for item in items:
                try:
                    with transaction.atomic():
                        results.extend(self._write_chunk([item]))
                except DatabaseError:
                    results.append(
                        ItemResult(
                            item.index,
                            item.reference,
                            "error",
                            {NON_FIELD: [_("The database refused this item; try it again.")]},
                        )
                    )
            return results
