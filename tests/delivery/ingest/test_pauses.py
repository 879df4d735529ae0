"""Pauses and resumes through the bulk API and the CSV import, as the staff page records them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from delivery.models import DeliveryPause, DeliveryStatus, ServiceDelivery
from delivery.services import delivery_pause, delivery_record, delivery_resume
from tests.delivery.conftest import wib
from tests.delivery.ingest.conftest import HEADER, csv_bytes, row, snapshot
from tests.delivery.ingest.test_bulk import _fields, item, post
from tests.delivery.ingest.test_import import report_rows, run

PAUSED = "2026-01-06T10:00:00+07:00"
RESUMED = "2026-01-09T10:00:00+07:00"
REASON = "KK belum dibawa"
PAUSE_HEADER = [*HEADER, "paused_at", "pause_reason", "resumed_at"]


def _twin(service: Any, reference: str, *, resumed: bool = True, **fields: Any) -> Any:
    """The same delivery recorded through the staff page's service functions."""
    delivery, _ = delivery_record(
        service=service,
        reference=reference,
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        **fields,
    )
    delivery_pause(delivery=delivery, reason=REASON, at=wib(2026, 1, 6, 10))
    if resumed:
        delivery_resume(delivery=delivery, at=wib(2026, 1, 9, 10))
    return ServiceDelivery.objects.get(pk=delivery.pk)


def _state(delivery: ServiceDelivery) -> dict[str, Any]:
    state = _fields(delivery)
    state["paused_working_days"] = delivery.paused_working_days
    state["paused_minutes"] = delivery.paused_minutes
    state["pauses"] = list(delivery.pauses.values_list("reason", "started_at", "ended_at"))
    return state


def _pauses() -> list[tuple[Any, ...]]:
    return list(
        DeliveryPause.objects.order_by("delivery__reference", "started_at").values_list(
            "delivery__reference", "reason", "started_at", "ended_at"
        )
    )


# --- The bulk API ------------------------------------------------------------------------------


def test_pause_then_resume_via_the_api_moves_the_due_date_like_the_services(api, editor_a, ktp):
    twin = _twin(ktp, "TWIN")
    api.force_login(editor_a)
    first = post(api, [item("P-1")])
    assert first.json()["results"][0]["result"] == "created"
    due_before = ServiceDelivery.objects.get(reference="P-1").due_date

    paused = post(api, [item("P-1", paused_at=PAUSED, pause_reason=REASON)], method="patch")
    assert paused.status_code == 200, paused.content
    assert paused.json()["results"][0] == {
        "index": 0,
        "reference": "P-1",
        "result": "updated",
        "errors": {},
    }
    delivery = ServiceDelivery.objects.get(reference="P-1")
    assert delivery.status == DeliveryStatus.PAUSED and delivery.due_date == due_before

    resumed = post(api, [item("P-1", paused_at=PAUSED, pause_reason=REASON, resumed_at=RESUMED)])
    assert resumed.json()["totals"] == {"total": 1, "created": 0, "updated": 1, "error": 0}
    delivery = ServiceDelivery.objects.get(reference="P-1")
    assert delivery.status == DeliveryStatus.OPEN
    assert delivery.paused_working_days == 3
    assert delivery.due_date is not None and due_before is not None
    assert delivery.due_date > due_before
    assert _state(delivery) == _state(twin)


def test_pause_and_resume_in_one_item_for_a_new_delivery(api, editor_a, ktp, legalisir):
    day_twin = _twin(ktp, "TWIN-D")
    api.force_login(editor_a)
    response = post(
        api,
        [
            item("N-D", paused_at=PAUSED, pause_reason=REASON, resumed_at=RESUMED),
            item(
                "N-H",
                service="legalisir",
                file_complete_at=None,
                paused_at="2026-01-05T11:00:00+07:00",
                pause_reason=REASON,
                resumed_at="2026-01-05T14:00:00+07:00",
            ),
            item("N-PLAIN"),
        ],
    )
    assert response.json()["totals"] == {"total": 3, "created": 3, "updated": 0, "error": 0}
    assert _state(ServiceDelivery.objects.get(reference="N-D")) == _state(day_twin)
    hours = ServiceDelivery.objects.get(reference="N-H")
    assert hours.paused_minutes == 180
    delivery, _ = delivery_record(
        service=legalisir, reference="TWIN-H2", submitted_at=wib(2026, 1, 5)
    )
    delivery_pause(delivery=delivery, reason=REASON, at=wib(2026, 1, 5, 11))
    delivery_resume(delivery=delivery, at=wib(2026, 1, 5, 14))
    twin = ServiceDelivery.objects.get(pk=delivery.pk)
    assert _state(hours) == _state(twin)
    assert ServiceDelivery.objects.get(reference="N-PLAIN").pauses.count() == 0


def test_sending_the_same_pause_twice_changes_nothing(api, editor_a, ktp):
    api.force_login(editor_a)
    items = [
        item("I-1", paused_at=PAUSED, pause_reason=REASON),
        item("I-2", paused_at=PAUSED, pause_reason=REASON, resumed_at=RESUMED),
        item("I-3"),
    ]
    first = post(api, items)
    assert first.json()["totals"] == {"total": 3, "created": 3, "updated": 0, "error": 0}
    before, pauses = snapshot(), _pauses()
    states = {d.reference: _state(d) for d in ServiceDelivery.objects.all()}
    assert len(pauses) == 2
    again = post(api, items)
    assert again.json()["totals"] == {"total": 3, "created": 0, "updated": 3, "error": 0}
    assert snapshot() == before and _pauses() == pauses
    assert {d.reference: _state(d) for d in ServiceDelivery.objects.all()} == states
    assert ServiceDelivery.objects.get(reference="I-1").status == DeliveryStatus.PAUSED


def test_a_second_pause_after_the_first_ended(api, editor_a, ktp):
    api.force_login(editor_a)
    post(api, [item("T-1", paused_at=PAUSED, pause_reason=REASON, resumed_at=RESUMED)])
    response = post(
        api,
        [
            item(
                "T-1",
                paused_at="2026-01-13T10:00:00+07:00",
                pause_reason="Pas foto",
                resumed_at="2026-01-14T10:00:00+07:00",
            )
        ],
    )
    assert response.json()["totals"]["updated"] == 1, response.content
    delivery = ServiceDelivery.objects.get(reference="T-1")
    assert delivery.pauses.count() == 2 and delivery.paused_working_days == 4
    # An earlier pause sent after a later one would count days twice: refused.
    overlap = post(api, [item("T-1", paused_at="2026-01-07T10:00:00+07:00", pause_reason="Lagi")])
    assert overlap.json()["results"][0]["result"] == "error"
    assert "paused_at" in overlap.json()["results"][0]["errors"]
    assert ServiceDelivery.objects.get(reference="T-1").pauses.count() == 2


def test_pause_errors_are_reported_per_item_and_the_rest_is_kept(api, editor_a, ktp):
    api.force_login(editor_a)
    post(api, [item("OPEN-PAUSED", paused_at=PAUSED, pause_reason=REASON)])
    before = snapshot()
    items = [
        item("GOOD-1"),
        item(
            "COMPLETED",
            completed_at="2026-01-08T10:00:00+07:00",
            paused_at=PAUSED,
            pause_reason=REASON,
        ),
        item("WITHDRAWN", outcome="withdrawn", paused_at=PAUSED, pause_reason=REASON),
        item("BACKWARDS", paused_at=RESUMED, pause_reason=REASON, resumed_at=PAUSED),
        item("NO-REASON", paused_at=PAUSED),
        item("NO-START", resumed_at=RESUMED),
        item("BAD-DATE", paused_at="kemarin", pause_reason=REASON),
        item("BEFORE-SUBMIT", paused_at="2026-01-04T10:00:00+07:00", pause_reason=REASON),
        # A second pause while the first one is still open.
        item("OPEN-PAUSED", paused_at=RESUMED, pause_reason="Lain"),
        # A new delivery paused and resumed in one item.
        item("GOOD-2", paused_at=PAUSED, pause_reason=REASON, resumed_at=RESUMED),
    ]
    response = post(api, items)
    assert response.status_code == 200, response.content
    results = {r["reference"]: r for r in response.json()["results"]}
    assert response.json()["totals"] == {"total": 10, "created": 2, "updated": 0, "error": 8}
    expected_fields = {
        "COMPLETED": "paused_at",
        "WITHDRAWN": "paused_at",
        "BACKWARDS": "resumed_at",
        "NO-REASON": "pause_reason",
        "NO-START": "paused_at",
        "BAD-DATE": "paused_at",
        "BEFORE-SUBMIT": "paused_at",
        "OPEN-PAUSED": "paused_at",
    }
    for reference, name in expected_fields.items():
        assert results[reference]["result"] == "error", reference
        assert list(results[reference]["errors"]) == [name], results[reference]
    assert results["COMPLETED"]["errors"]["paused_at"] == [
        "Only a request in process can be paused."
    ]
    assert results["BACKWARDS"]["errors"]["resumed_at"] == [
        "The clock cannot resume before it stopped."
    ]
    assert results["NO-REASON"]["errors"]["pause_reason"] == ["Say why the clock stops."]
    # Nothing of a refused item is written, not even its delivery.
    refs = set(ServiceDelivery.objects.values_list("reference", flat=True))
    assert refs == {"OPEN-PAUSED", "GOOD-1", "GOOD-2"}
    assert [r for r in snapshot() if r[1] == "OPEN-PAUSED"] == before
    assert ServiceDelivery.objects.get(reference="OPEN-PAUSED").pauses.count() == 1
    assert ServiceDelivery.objects.get(reference="GOOD-2").pauses.get().ended_at is not None

    # The pause recorded, now said to end at another time than recorded.
    changed_end = post(
        api,
        [
            item(
                "GOOD-2",
                paused_at=PAUSED,
                pause_reason=REASON,
                resumed_at="2026-01-12T10:00:00+07:00",
                fee_charged=5000,
            )
        ],
    )
    result = changed_end.json()["results"][0]
    assert result["result"] == "error" and list(result["errors"]) == ["resumed_at"]
    good = ServiceDelivery.objects.get(reference="GOOD-2")
    assert good.fee_charged == 0  # the whole item was undone
    assert good.pauses.get().ended_at == dt.datetime(2026, 1, 9, 3, 0, tzinfo=dt.UTC)


def test_a_pause_on_a_file_not_yet_complete_is_refused(api, editor_a, ktp):
    api.force_login(editor_a)
    response = post(
        api, [item("W-1", file_complete_at=None, paused_at=PAUSED, pause_reason=REASON)]
    )
    result = response.json()["results"][0]
    assert result["result"] == "error" and list(result["errors"]) == ["paused_at"]
    assert not ServiceDelivery.objects.filter(reference="W-1").exists()


# --- The CSV import ----------------------------------------------------------------------------


def pause_row(reference: str, paused: str = "", reason: str = "", resumed: str = "", **kw: Any):
    return [*row(reference, **kw), paused, reason, resumed]


def test_csv_pause_and_resume_like_the_services(agency_a, editor_a, ktp):
    twin = _twin(ktp, "TWIN")
    open_twin = _twin(ktp, "TWIN-OPEN", resumed=False)
    content = csv_bytes(
        [
            pause_row("C-1", "2026-01-06 10:00", REASON, "2026-01-09 10:00"),
            pause_row("C-2", "2026-01-06 10:00", REASON),
            pause_row("C-3"),
        ],
        header=PAUSE_HEADER,
    )
    job = run(agency_a, editor_a, content)
    assert (job.created, job.updated, job.errors) == (3, 0, 0), job.error_sample
    assert _state(ServiceDelivery.objects.get(reference="C-1")) == _state(twin)
    assert _state(ServiceDelivery.objects.get(reference="C-2")) == _state(open_twin)
    before, pauses = snapshot(), _pauses()
    again = run(agency_a, editor_a, content)
    assert (again.created, again.updated, again.errors) == (0, 3, 0)
    assert snapshot() == before and _pauses() == pauses
    # The open pause resumed by a later file.
    later = csv_bytes(
        [pause_row("C-2", "2026-01-06 10:00", REASON, "2026-01-09 10:00")], header=PAUSE_HEADER
    )
    job = run(agency_a, editor_a, later)
    assert (job.updated, job.errors) == (1, 0)
    c2 = ServiceDelivery.objects.get(reference="C-2")
    assert _state(c2) == _state(twin)


def test_csv_pause_errors_are_reported_with_their_lines(agency_a, editor_a, ktp):
    content = csv_bytes(
        [
            pause_row("E-GOOD", "2026-01-06 10:00", REASON),
            pause_row("E-DONE", "2026-01-06 10:00", REASON, completed="2026-01-08 10:00"),
            pause_row("E-BACK", "2026-01-09 10:00", REASON, "2026-01-06 10:00"),
            pause_row("E-NOREASON", "2026-01-06 10:00"),
            pause_row("E-PLAIN"),
        ],
        header=PAUSE_HEADER,
    )
    job = run(agency_a, editor_a, content)
    assert (job.created, job.errors) == (2, 3), job.error_sample
    by_line = {r["line"]: r for r in report_rows(job)}
    assert set(by_line) == {"3", "4", "5"}
    assert by_line["3"]["reference"] == "E-DONE"
    assert by_line["3"]["errors"] == "paused_at: Only a request in process can be paused."
    assert by_line["4"]["errors"] == "resumed_at: The clock cannot resume before it stopped."
    assert by_line["5"]["errors"] == "pause_reason: Say why the clock stops."
    assert set(ServiceDelivery.objects.values_list("reference", flat=True)) == {
        "E-GOOD",
        "E-PLAIN",
    }
    assert ServiceDelivery.objects.get(reference="E-GOOD").status == DeliveryStatus.PAUSED
