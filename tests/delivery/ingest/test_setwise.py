"""The set-based writer of new deliveries (delivery.bulk.setwise): its SQL lands where the
one clock (delivery_record over agencies.calendars.clock_due) would, on varied calendars,
promises and times of day; whatever it cannot insert takes the row path, in order; its
query count is flat in the number of items."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.calendars import calendar_rebuild
from agencies.models import Calendar, CalendarException
from core.errors import ApplicationError
from delivery.bulk import DeliveryRecorder
from delivery.bulk.apply import ChunkWriter
from delivery.models import TRACKING_ALPHABET, ServiceDelivery, new_tracking_code
from delivery.services import delivery_record
from tests import factories
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

UTC = dt.UTC
D = dt.date
COMPARED = (
    "unit_id",
    "version_id",
    "calendar_id",
    "promise_value",
    "promise_unit",
    "promised_cost",
    "clock_started_at",
    "clock_start_date",
    "due_date",
    "due_at",
    "working_days_taken",
    "status",
    "outcome",
    "refusal_reason",
    "fee_charged",
    "channel",
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "paused_working_days",
    "paused_minutes",
)
# (value, unit, clock start): the shapes of a promise, the shortest included.
PROMISES = (
    (2, "working_days", "on_complete"),
    (1, "working_days", "on_receipt"),
    (5, "working_days", "on_complete"),
    (14, "working_days", "on_receipt"),
    (1, "calendar_days", "on_receipt"),
    (7, "calendar_days", "on_complete"),
    (4, "hours", "on_receipt"),
    (90, "minutes", "on_complete"),
    (20, "working_days", "on_receipt"),
)
# The units' own calendars end with 2026: late requests fall due, or end, past their span.
UNIT_SPAN = (2025, 2026)
LAST_DAY = D(2026, 12, 6)  # submissions up to here (never in the future)


def _calendar(slug: str, national: Calendar, **fields: Any) -> Calendar:
    closures = fields.pop("closures", ())
    openings = fields.pop("openings", ())
    calendar = Calendar.objects.create(name=slug, slug=slug, parent=national, **fields)
    for day in closures:
        CalendarException.objects.create(calendar=calendar, date=day, kind="closure", name="Tutup")
    for day in openings:
        CalendarException.objects.create(
            calendar=calendar, date=day, kind="working_day", name="Masuk"
        )
    calendar_rebuild(calendar, span=UNIT_SPAN, notify=False)
    return calendar


@pytest.fixture
def services(agency_a: Any, unit_a: Any, national: Calendar) -> list[Any]:
    """Every promise shape on three calendars: the national one (WIB, weekends, holidays
    and cuti bersama), a WITA unit's own with local closures and a working Saturday, and a
    WIT unit's own open on cuti bersama with only Sunday off."""
    wita = _calendar(
        "kota-wita",
        national,
        utc_offset_hours=8,
        closures=[D(2026, 3, 16), D(2026, 12, 28), D(2027, 1, 4)],
        openings=[D(2026, 3, 14)],
    )
    wit = _calendar(
        "kota-wit",
        national,
        utc_offset_hours=9,
        closed_on_cuti_bersama=False,
        weekend_days=[6],
        closures=[D(2026, 5, 4)],
    )
    units = [
        unit_a,
        factories.UnitFactory(agency=agency_a, slug="unit-wita", calendar=wita),
        factories.UnitFactory(
            agency=agency_a,
            slug="unit-wit",
            calendar=wit,
            opens_at=dt.time(7, 30),
            closes_at=dt.time(12, 0),
        ),
    ]
    made = []
    for u, unit in enumerate(units):
        for p, (value, time_unit, clock) in enumerate(PROMISES):
            service = make_service(agency_a, unit, name=f"Layanan {u}-{p}")
            make_published(
                service,
                published_at=wib(2025, 6, 1),
                processing_time_value=value,
                processing_time_unit=time_unit,
                clock_start=clock,
            )
            made.append(service)
    return made


def _moment(rng: random.Random) -> dt.datetime:
    """Any minute from before the first standard to the span's last weeks, with the
    minutes around local midnight (WIB, WITA, WIT) drawn often."""
    first = D(2025, 5, 25)  # before the standards (published 2025-06-01)
    day = first + dt.timedelta(days=rng.randrange((LAST_DAY - first).days))
    if rng.random() < 0.3:
        day = LAST_DAY - dt.timedelta(days=rng.randrange(30))
    if rng.random() < 0.4:
        hour, minute = rng.choice([(14, 59), (15, 0), (15, 59), (16, 0), (16, 59), (17, 0)])
    else:
        hour, minute = rng.randrange(24), rng.randrange(60)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


def _cases(rng: random.Random, services: list[Any], n: int) -> list[dict[str, Any]]:
    cases = []
    for _ in range(n):
        submitted = _moment(rng)
        complete = (
            None
            if rng.random() < 0.15
            else submitted + dt.timedelta(minutes=rng.choice([0, 5, 60 * rng.randrange(72)]))
        )
        completed = None
        if rng.random() < 0.6:
            completed = submitted + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
        if completed is not None:
            outcome = rng.choice(["", "granted", "refused", "withdrawn"])
        else:
            outcome = "withdrawn" if rng.random() < 0.05 else ""
        cases.append(
            {
                "service": rng.choice(services),
                "submitted_at": submitted,
                "file_complete_at": complete,
                "completed_at": completed,
                "outcome": outcome,
                "fee_charged": rng.choice([0, 5000, 125000]),
                "channel": rng.choice(["counter", "online"]),
            }
        )
    return cases


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_set_based_rows_equal_delivery_record(agency_a, services, monkeypatch, seed):
    rng = random.Random(seed)
    cases = _cases(rng, services, 160)
    row_path: list[str] = []
    original = ChunkWriter._write_chunk

    def spy(self: ChunkWriter, items: list[Any]) -> Any:
        row_path.extend(item.reference for item in items)
        return original(self, items)

    monkeypatch.setattr(ChunkWriter, "_write_chunk", spy)
    raw = [
        (
            i,
            {
                **case,
                "service": case["service"].slug,
                "reference": f"S-{i}",
                "submitted_at": case["submitted_at"].isoformat(),
                "file_complete_at": case["file_complete_at"]
                and case["file_complete_at"].isoformat(),
                "completed_at": case["completed_at"] and case["completed_at"].isoformat(),
            },
        )
        for i, case in enumerate(cases)
    ]
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(raw, chunk_size=40)
    assert [r.index for r in results] == list(range(len(cases)))
    stored = {d.reference: d for d in ServiceDelivery.objects.filter(reference__startswith="S-")}
    outcomes = {"created": 0, "error": 0}
    for i, (case, result) in enumerate(zip(cases, results, strict=True)):
        try:
            twin, _ = delivery_record(reference=f"P-{i}", **case)
        except ApplicationError as error:
            assert result.result == "error", (case, result)
            assert list(result.errors.values()) == [[error.message]], (case, result)
            assert result.reference in row_path  # refused there, with its message
            outcomes["error"] += 1
            continue
        assert result.result == "created", (case, result.errors)
        mine = stored[f"S-{i}"]
        assert result.delivery_id == mine.pk
        assert {f: getattr(mine, f) for f in COMPARED} == {f: getattr(twin, f) for f in COMPARED}, (
            case
        )
        assert len(mine.tracking_code) == 10
        assert set(mine.tracking_code) <= set(TRACKING_ALPHABET)
        outcomes["created"] += 1
    # Varied enough to mean something: most are written set-based, some refused.
    assert outcomes["created"] > 100 and outcomes["error"] >= 2, outcomes
    assert not set(row_path) & {r.reference for r in results if r.result == "created"}
    statuses = set(ServiceDelivery.objects.values_list("status", flat=True))
    assert statuses == {"waiting", "open", "completed", "withdrawn"}
    working_days_taken = set(
        ServiceDelivery.objects.filter(reference__startswith="S-").values_list(
            "working_days_taken", flat=True
        )
    )
    assert None in working_days_taken and 0 in working_days_taken
    assert len(working_days_taken) > 8


def _item(reference: str, service: str, **fields: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "service": service,
        "submitted_at": "2026-01-05T09:00:00+07:00",
        "file_complete_at": "2026-01-05T09:00:00+07:00",
        **fields,
    }


def test_a_mixed_chunk_keeps_the_order_and_updates_through_the_row_path(agency_a, services):
    slug = services[2].slug  # 5 working days from a complete file, national calendar
    late = services[len(PROMISES) + 8].slug  # 20 working days, WITA calendar ending 2026
    recorder = DeliveryRecorder(agency=agency_a, acting_user=None)
    [first] = recorder.record([(0, _item("OLD", slug))])
    assert first.result == "created"
    before = ServiceDelivery.objects.get(reference="OLD")
    assert before.due_date == D(2026, 1, 12)
    items = [
        (0, _item("NEW-1", slug)),
        (1, _item("OLD", slug, completed_at="2026-01-07T10:00:00+07:00")),
        (2, _item("SPAN", slug, submitted_at="2026-12-01T09:00:00+07:00", file_complete_at=None)),
        (
            3,
            _item(
                "SPAN-2",
                late,
                submitted_at="2026-12-01T09:00:00+08:00",
                file_complete_at="2026-12-01T09:00:00+08:00",
            ),
        ),
        (4, _item("EARLY", slug, submitted_at="2025-05-02T09:00:00+07:00")),
        (5, _item("NEW-2", slug)),
    ]
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(items)
    assert [(r.index, r.reference, r.result) for r in results] == [
        (0, "NEW-1", "created"),
        (1, "OLD", "updated"),
        (2, "SPAN", "created"),  # waiting for a complete file: no due date yet
        (3, "SPAN-2", "error"),  # due after the calendar's last day
        (4, "EARLY", "error"),  # no standard in force yet
        (5, "NEW-2", "created"),
    ]
    assert "calendar" in str(results[3].errors.get("non_field_errors")), results[3].errors
    assert "no published standard" in results[4].errors["submitted_at"][0]
    after = ServiceDelivery.objects.get(reference="OLD")
    assert (after.pk, after.tracking_code) == (before.pk, before.tracking_code)
    assert (after.status, after.working_days_taken) == ("completed", 2)
    assert ServiceDelivery.objects.get(reference="SPAN").status == "waiting"
    assert ServiceDelivery.objects.count() == 4


def test_a_tracking_code_drawn_twice_falls_back_to_a_fresh_one(agency_a, services, monkeypatch):
    slug = services[2].slug
    recorder = DeliveryRecorder(agency=agency_a, acting_user=None)
    recorder.record([(0, _item("FIRST", slug))])
    taken = ServiceDelivery.objects.get(reference="FIRST").tracking_code
    draws = iter([taken])
    monkeypatch.setattr(
        "delivery.bulk.setwise.new_tracking_code", lambda: next(draws, None) or new_tracking_code()
    )
    [result] = recorder.record([(1, _item("SECOND", slug))])
    assert result.result == "created"
    second = ServiceDelivery.objects.get(reference="SECOND")
    assert second.tracking_code != taken and result.delivery_id == second.pk


def test_the_staging_table_is_empty_between_chunks_of_one_transaction(agency_a, services):
    """Tests run inside one transaction, as a caller's outer transaction would: the rows of
    one chunk must not be inserted again with the next."""
    slug = services[2].slug
    items = [(i, _item(f"C-{i}", slug)) for i in range(25)]
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(items, chunk_size=7)
    assert [r.result for r in results] == ["created"] * 25
    assert ServiceDelivery.objects.count() == 25
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM delivery_bulk_stage")
        assert cursor.fetchone()[0] == 0


def test_new_items_take_a_number_of_queries_flat_in_their_number(agency_a, services):
    slugs = [s.slug for s in services]

    def run(prefix: str, n: int) -> int:
        items = [(i, _item(f"{prefix}-{i}", slugs[i % len(slugs)])) for i in range(n)]
        recorder = DeliveryRecorder(agency=agency_a, acting_user=None)
        with CaptureQueriesContext(connection) as queries:
            results = recorder.record(items, chunk_size=10_000)
        assert {r.result for r in results} == {"created"}
        inserts = [q["sql"] for q in queries if "INSERT INTO" in q["sql"]]
        assert len(inserts) == 1 and "delivery_bulk_stage" in inserts[0]
        return len(queries)

    assert run("A", 30) == run("B", 600)
