"""Deliveries partitioned by month on PostgreSQL (delivery/partitions.py, core/partitioning.py):
the shape, the two "exactly once" keys across months under their old constraint names, the
bulk importer's upsert across months (set-based and row by row), two importers of the same
references at once, a month detached and attached back, Django's cascades without database
foreign keys, and a figures window on submitted_at that reads only its months."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from io import StringIO
from typing import Any, TypeVar

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from core.errors import ApplicationError
from core.partitioning import (
    add_months,
    default_name,
    ensure_partitions,
    is_partitioned,
    partition_name,
    partitions,
)
from delivery.bulk import DeliveryRecorder
from delivery.bulk.results import ItemResult
from delivery.models import (
    DeliveryPause,
    DeliveryReferenceClaim,
    DeliveryTrackingClaim,
    ServiceDelivery,
)
from delivery.partitions import DELIVERIES
from delivery.services import delivery_complete, delivery_pause, delivery_record
from oversight.models import CitizenFollower
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

TABLE = DELIVERIES.table
T = TypeVar("T")
JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)


@pytest.fixture
def ktp(agency_a: Any, unit_a: Any, national: Any) -> Any:
    """5 working days from a complete file."""
    service = make_service(agency_a, unit_a, name="KTP Elektronik")
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)
    return service


def _item(reference: str, submitted: str = "2026-01-05T09:00:00+07:00", **more: Any) -> dict:
    return {
        "reference": reference,
        "service": "ktp-elektronik",
        "submitted_at": submitted,
        "file_complete_at": submitted,
        **more,
    }


def _record(agency: Any, items: list[dict]) -> list[ItemResult]:
    return DeliveryRecorder(agency=agency, acting_user=None).record(list(enumerate(items)))


def _written(result: ItemResult) -> int:
    assert result.delivery_id is not None
    return result.delivery_id


def _where(delivery_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [delivery_id])
        row = cursor.fetchone()
    return row[0] if row else ""


def _copy(delivery: ServiceDelivery, **changes: Any) -> ServiceDelivery:
    """A new row with the delivery's values (a plain ORM insert, as a hand-written one)."""
    values = {
        f.attname: getattr(delivery, f.attname)
        for f in ServiceDelivery._meta.concrete_fields
        if f.name != "id"
    }
    return ServiceDelivery.objects.create(**(values | changes))


def test_deliveries_are_a_partitioned_table_without_foreign_keys_into_it(db):
    assert is_partitioned(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'p'",
            [TABLE],
        )
        assert cursor.fetchone()[0] == ["id", "submitted_at"]
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE confrelid = %s::regclass", [TABLE])
        assert cursor.fetchone()[0] == 0  # pauses, breaches, complaints...: db_constraint=False
    names = [name for name, _bound in partitions(TABLE)]
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    assert default_name(TABLE) in names
    for ahead in range(4):  # this month and MONTHS_AHEAD ahead, made by the migration
        assert partition_name(TABLE, add_months(this_month, ahead)) in names


def test_the_daily_task_keeps_the_months_of_deliveries_ahead(db):
    from oversight.partitions import PARTITIONED, create_partitions

    assert TABLE in PARTITIONED
    created = create_partitions(today=dt.date(2031, 1, 1), months_ahead=1)
    assert partition_name(TABLE, dt.date(2031, 2, 1)) in created
    out = StringIO()
    call_command("partitions", "list", "--table", TABLE, stdout=out)
    assert partition_name(TABLE, dt.date(2031, 2, 1)) in out.getvalue()


def test_a_reference_or_tracking_code_is_refused_twice_whatever_the_month(ktp, agency_a):
    [result] = _record(agency_a, [_item("R-1")])
    delivery = ServiceDelivery.objects.get(pk=_written(result))
    assert _where(delivery.pk) == default_name(TABLE)  # January 2026: older than the months
    assert DeliveryReferenceClaim.objects.count() == DeliveryTrackingClaim.objects.count() == 1
    later = dt.datetime.now(dt.UTC)
    for submitted_at in (delivery.submitted_at, later):
        with pytest.raises(IntegrityError, match="delivery_reference_unique"), transaction.atomic():
            _copy(delivery, submitted_at=submitted_at, tracking_code="NEWCODE234")
        with (
            pytest.raises(IntegrityError, match="delivery_servicedelivery_tracking_code_key"),
            transaction.atomic(),
        ):
            _copy(delivery, submitted_at=submitted_at, reference="R-2")
    other = _copy(delivery, submitted_at=later, reference="R-2", tracking_code="NEWCODE234")
    assert _where(other.pk) == partition_name(TABLE, later.date().replace(day=1))
    assert DeliveryReferenceClaim.objects.count() == DeliveryTrackingClaim.objects.count() == 2
    with pytest.raises(Exception, match="cannot change"), transaction.atomic():
        ServiceDelivery.objects.filter(pk=other.pk).update(reference="R-3")


def test_a_resent_item_updates_its_row_across_months_set_based_or_row_by_row(ktp, agency_a):
    ensure_partitions([TABLE], today=JAN, months_ahead=1)
    created = _record(agency_a, [_item("R-1"), _item("R-2")])
    assert [r.result for r in created] == ["created", "created"]
    first = ServiceDelivery.objects.get(reference="R-1")
    assert _where(first.pk) == partition_name(TABLE, JAN)
    # Sent again: R-1 moved to February and completed, R-2 unchanged, R-3 new.
    again = _record(
        agency_a,
        [
            _item("R-1", "2026-02-02T09:00:00+07:00", completed_at="2026-02-04T10:00:00+07:00"),
            _item("R-2"),
            _item("R-3"),
        ],
    )
    assert [(r.reference, r.result) for r in again] == [
        ("R-1", "updated"),
        ("R-2", "updated"),
        ("R-3", "created"),
    ]
    moved = ServiceDelivery.objects.get(reference="R-1")
    assert (moved.pk, moved.tracking_code) == (first.pk, first.tracking_code)
    assert again[0].delivery_id == first.pk
    assert _where(moved.pk) == partition_name(TABLE, FEB)
    assert (moved.status, moved.working_days_taken) == ("completed", 2)
    assert moved.updated_at > first.updated_at
    assert ServiceDelivery.objects.count() == 3
    assert DeliveryReferenceClaim.objects.count() == DeliveryTrackingClaim.objects.count() == 3
    # Idempotent: the same items once more change nothing but their updated_at.
    assert [r.result for r in _record(agency_a, [_item("R-3")])] == ["updated"]
    assert ServiceDelivery.objects.count() == 3


def test_deleting_frees_the_claims_and_django_cascades_without_database_constraints(ktp, agency_a):
    [result] = _record(agency_a, [_item("R-1")])
    delivery = ServiceDelivery.objects.get(pk=_written(result))
    delivery_pause(delivery=delivery, reason="Menunggu berkas", at=wib(2026, 1, 6))
    CitizenFollower.objects.create(delivery=delivery, email="warga@example.org")
    delivery.delete()
    assert not DeliveryPause.objects.exists()
    assert not CitizenFollower.objects.exists()
    assert not DeliveryReferenceClaim.objects.exists()
    assert not DeliveryTrackingClaim.objects.exists()
    assert [r.result for r in _record(agency_a, [_item("R-1")])] == ["created"]


def test_a_month_detached_for_archive_keeps_its_references_taken(ktp, agency_a):
    ensure_partitions([TABLE], today=JAN, months_ahead=0)
    [result] = _record(agency_a, [_item("R-1")])
    call_command("partitions", "detach", "--table", TABLE, "--month", "2026-01", stdout=StringIO())
    assert not ServiceDelivery.objects.filter(pk=_written(result)).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {partition_name(TABLE, JAN)}")
        assert cursor.fetchall() == [(result.delivery_id,)]  # the archive holds the row
    # The claim stays: an archived request is not recorded again, and the importer says why
    # (in the request's language) while the rest of the batch is written.
    with translation.override("id"):
        again, other = _record(agency_a, [_item("R-1"), _item("R-2")])
    assert (again.result, other.result) == ("error", "created")
    assert again.errors == {
        "reference": [
            "Referensi ini termasuk bulan yang diarsipkan dari registri aktif: tidak dapat "
            "dicatat lagi."
        ]
    }
    assert list(ServiceDelivery.objects.values_list("reference", flat=True)) == ["R-2"]
    ServiceDelivery.objects.filter(reference="R-2").delete()
    call_command("partitions", "attach", "--table", TABLE, "--month", "2026-01", stdout=StringIO())
    assert ServiceDelivery.objects.get().pk == result.delivery_id
    assert [r.result for r in _record(agency_a, [_item("R-1")])] == ["updated"]


def _while_held(first: Callable[[], Any], second: Callable[[], T]) -> tuple[Any, T]:
    """Run `first` in a transaction held open while `second` starts in another thread and
    waits on what `first` locked; then commit and return both results. Fails if `second`
    did not wait or raised."""
    done: list[T] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            done.append(second())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    with transaction.atomic():
        held = first()
        thread.start()
        time.sleep(1.0)  # the second writer is now waiting
        assert thread.is_alive()
    thread.join(timeout=60)
    assert not errors, errors
    return held, done[0]


PAUSE = {"paused_at": "2026-01-06T09:00:00+07:00", "pause_reason": "Menunggu berkas"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pause", [{}, PAUSE], ids=["set-based", "row-by-row"])
def test_two_importers_of_the_same_new_references_at_once(ktp, agency_a, pause):
    """The first importer holds its transaction open; the second waits on the references'
    claims, then finds them taken and updates the rows (items with a pause take the row
    path: its INSERT fails once the first commits, and the chunk is written again)."""
    items = [_item(f"R-{i}", **pause) for i in range(5)]
    first, second = _while_held(lambda: _record(agency_a, items), lambda: _record(agency_a, items))
    assert [r.result for r in first] == ["created"] * 5
    assert [(r.result, r.errors) for r in second] == [("updated", {})] * 5
    assert [r.delivery_id for r in second] == [r.delivery_id for r in first]
    assert ServiceDelivery.objects.count() == 5
    assert DeliveryReferenceClaim.objects.count() == DeliveryTrackingClaim.objects.count() == 5
    if pause:
        assert DeliveryPause.objects.count() == 5  # matched on its start: recorded once


def _by_hand(service: Any, reference: str, submitted: dt.datetime) -> tuple[Any, bool]:
    """A clerk's entry (the staff form's service)."""
    return delivery_record(
        service=service, reference=reference, submitted_at=submitted, file_complete_at=submitted
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["import-moves-the-row", "clerk-inserts-it"])
def test_a_clerk_and_an_importer_of_the_same_reference_at_once(ktp, agency_a, first):
    """The first writer holds its transaction open: an import that corrects the submission
    time (moving the row to another month's partition), or a colleague's entry of a new
    reference. The clerk's `delivery_record` waits on the reference's claim, then updates
    the row where it now is: no serialization failure, no unique violation, no second row."""
    ensure_partitions([TABLE], today=JAN, months_ahead=1)
    if first == "import-moves-the-row":
        [made] = _record(agency_a, [_item("R-1")])

    def first_writer() -> None:
        if first == "import-moves-the-row":
            [moved] = _record(agency_a, [_item("R-1", "2026-02-02T09:00:00+07:00")])
            assert (moved.result, moved.delivery_id) == ("updated", made.delivery_id)
        else:
            _by_hand(ktp, "R-1", wib(2026, 1, 5, 9))

    _, (delivery, created) = _while_held(
        first_writer, lambda: _by_hand(ktp, "R-1", wib(2026, 2, 3, 9))
    )
    assert not created
    assert ServiceDelivery.objects.get().pk == delivery.pk
    assert ServiceDelivery.objects.get().submitted_at == wib(2026, 2, 3, 9)
    assert _where(delivery.pk) == partition_name(TABLE, FEB)


@pytest.mark.django_db(transaction=True)
def test_a_clerk_closing_a_request_while_an_import_moves_it(ktp, agency_a):
    """Completing (or pausing, withdrawing) a request waits on its reference's claim while
    an import corrects its submission time into another month, then closes the moved row."""
    ensure_partitions([TABLE], today=JAN, months_ahead=1)
    [made] = _record(agency_a, [_item("R-1")])
    request = ServiceDelivery.objects.get(pk=_written(made))
    _while_held(
        lambda: _record(agency_a, [_item("R-1", "2026-02-02T09:00:00+07:00")]),
        lambda: delivery_complete(delivery=request, completed_at=wib(2026, 2, 6, 9)),
    )
    closed = ServiceDelivery.objects.get()
    assert (closed.pk, closed.status) == (made.delivery_id, "completed")
    assert closed.submitted_at == wib(2026, 2, 2, 9)
    assert _where(closed.pk) == partition_name(TABLE, FEB)


def test_a_clerk_entering_an_archived_reference_is_told_why(ktp, agency_a):
    """The reference's month was detached for archive: the clerk's entry is refused on the
    reference field, in the user's language, instead of failing on the claim."""
    ensure_partitions([TABLE], today=JAN, months_ahead=0)
    _record(agency_a, [_item("R-1")])
    call_command("partitions", "detach", "--table", TABLE, "--month", "2026-01", stdout=StringIO())
    with translation.override("id"), pytest.raises(ApplicationError) as refused:
        _by_hand(ktp, "R-1", wib(2026, 1, 5, 9))
    assert (refused.value.field, refused.value.code) == ("reference", "archived")
    assert "diarsipkan" in refused.value.message
    assert not ServiceDelivery.objects.exists()


def _plan(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _scanned(plan: str) -> set[str]:
    return set(re.findall(rf"\bon ({TABLE}_p(?:\d{{6}}|default))\b", plan))


def test_a_figures_window_bounded_on_submitted_at_scans_only_its_months(db):
    ensure_partitions([TABLE], today=dt.date(2030, 1, 1), months_ahead=11)
    since = dt.datetime(2030, 3, 1, tzinfo=dt.UTC)
    until = dt.datetime(2030, 5, 1, tzinfo=dt.UTC)
    # Completed in the window: completed_at >= submitted_at (a check constraint), so
    # submitted_at < until is a safe extra bound; the lower bound cannot be had this way.
    completed = ServiceDelivery.objects.filter(
        completed_at__gte=since, completed_at__lt=until, submitted_at__lt=until
    )
    sql, params = completed.query.sql_with_params()
    scanned = _scanned(_plan(sql, list(params)))
    assert partition_name(TABLE, dt.date(2030, 5, 1)) not in scanned
    assert partition_name(TABLE, dt.date(2030, 12, 1)) not in scanned
    assert partition_name(TABLE, dt.date(2030, 4, 1)) in scanned
    submitted = ServiceDelivery.objects.filter(submitted_at__gte=since, submitted_at__lt=until)
    sql, params = submitted.query.sql_with_params()
    assert _scanned(_plan(sql, list(params))) == {
        partition_name(TABLE, dt.date(2030, 3, 1)),
        partition_name(TABLE, dt.date(2030, 4, 1)),
    }


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_a_table_with_rows_and_back(ktp, agency_a):
    from django.db.migrations.executor import MigrationExecutor

    created = _record(agency_a, [_item(f"R-{i}") for i in range(3)])
    before = sorted(ServiceDelivery.objects.values_list("id", "reference", "tracking_code"))
    previous = [("delivery", "0004_delivery_claims_and_fk_without_db_constraint")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(previous)
        assert not is_partitioned(TABLE)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'u' ORDER BY 1",
                [TABLE],
            )
            assert [row[0] for row in cursor.fetchall()] == [
                "delivery_reference_unique",
                "delivery_servicedelivery_tracking_code_key",
            ]
            cursor.execute(f"SELECT id, reference, tracking_code FROM {TABLE} ORDER BY id")
            assert cursor.fetchall() == before
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert is_partitioned(TABLE)
    assert sorted(ServiceDelivery.objects.values_list("id", "reference", "tracking_code")) == before
    assert DeliveryReferenceClaim.objects.count() == DeliveryTrackingClaim.objects.count() == 3
    [new] = _record(agency_a, [_item("R-9")])
    assert _written(new) > max(_written(r) for r in created)  # the identity continues
    assert [r.result for r in _record(agency_a, [_item("R-0")])] == ["updated"]
