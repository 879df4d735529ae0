"""The staff list's reads: scoped by the permission policy in the selector, then filtered."""

from __future__ import annotations

import datetime as dt

from delivery.selectors import deliveries_for_staff, recordable_services
from delivery.services import delivery_complete, delivery_record
from tests.delivery.conftest import wib


def _refs(deliveries) -> set[str]:
    return {d.reference for d in deliveries}


def test_each_agency_reads_only_its_own(editor_a, editor_b, ktp, legalisir, service_b):
    delivery_record(service=ktp, reference="A-1", submitted_at=wib(2026, 1, 5))
    delivery_record(service=service_b, reference="B-1", submitted_at=wib(2026, 1, 5))
    assert _refs(deliveries_for_staff(user=editor_a)) == {"A-1"}
    assert _refs(deliveries_for_staff(user=editor_b)) == {"B-1"}
    assert set(recordable_services(user=editor_a)) == {ktp, legalisir}
    assert list(recordable_services(user=editor_b)) == [service_b]


def test_the_list_filters_and_sorts(editor_a, ktp, legalisir):
    old, _ = delivery_record(
        service=ktp,
        reference="OLD",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    done, _ = delivery_record(
        service=ktp,
        reference="DONE",
        submitted_at=wib(2026, 1, 6),
        file_complete_at=wib(2026, 1, 6),
    )
    delivery_complete(delivery=done, completed_at=wib(2026, 1, 7))
    delivery_record(service=legalisir, reference="HOUR", submitted_at=wib(2026, 1, 8))
    assert [d.reference for d in deliveries_for_staff(user=editor_a)] == ["HOUR", "DONE", "OLD"]
    assert _refs(deliveries_for_staff(user=editor_a, status="completed")) == {"DONE"}
    assert _refs(deliveries_for_staff(user=editor_a, service=legalisir)) == {"HOUR"}
    # Due on 12 and 8 January: on the 10th only the first promise is still ahead.
    on_the_10th = dt.datetime(2026, 1, 10, 3, 0, tzinfo=dt.UTC)
    assert _refs(deliveries_for_staff(user=editor_a, overdue=True, now=on_the_10th)) == {"HOUR"}
    assert _refs(deliveries_for_staff(user=editor_a, q=" OLD ")) == {"OLD"}
    code = old.tracking_code.lower()
    assert _refs(deliveries_for_staff(user=editor_a, q=code)) == {"OLD"}
    assert not deliveries_for_staff(user=editor_a, q="old")
