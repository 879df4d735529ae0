"""Bulk datasets of places, journeys and accountability (opendata.dataset_rows): streamed
CSV with its headers and rows, nothing unpublished or internal, queries flat per batch."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agencies.locations import counter_attach
from agencies.models import Location
from cases import services as case_services
from lifeevents.services import life_event_create, life_event_publish, life_event_step_add
from opendata.dataset_rows import (
    COMPLAINT_COLUMNS,
    FINDING_COLUMNS,
    LIFE_EVENT_COLUMNS,
    LOCATION_COLUMNS,
    finding_batches,
    life_event_batches,
    location_batches,
)
from opendata.exports import DATASETS
from tests.cases.conftest import advance
from tests.opendata.records_world import (
    NOTE,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_TEXT,
    assess,
    complaint,
    finding_case,
    make_mall,
)
from tests.opendata.test_api_records import (
    birth,  # noqa: F401 - a fixture
    method_2022,  # noqa: F401 - a fixture
    svc_a,  # noqa: F401 - a fixture
)
from tests.registry import make_published, make_service

NEW = ("complaints", "findings", "assessments", "locations", "life-events")


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _download(client: Any, key: str) -> tuple[list[str], list[dict[str, str]], str]:
    response = client.get(f"/opendata/datasets/{key}.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="maklumat-{key}-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows, text


def test_the_new_datasets_are_registered_and_listed(client: Client, db: Any) -> None:
    assert set(NEW) <= set(DATASETS)
    html = client.get("/opendata/").content.decode()
    catalogue = client.get("/opendata/catalog.jsonld").content.decode()
    for key in NEW:
        assert f"/opendata/datasets/{key}.xlsx" in html
        assert f"/opendata/datasets/{key}.csv" in catalogue


def test_complaint_statistics_per_unit_and_month_carry_counts_only(
    client: Client, published_a: Any, national: Any
) -> None:
    complaint(published_a.service)
    complaint(published_a.service, confidential=False, category="time")
    header, rows, text = _download(client, "complaints")
    assert tuple(header) == COMPLAINT_COLUMNS
    assert len(rows) == 1
    row = rows[0]
    assert row["unit_id"] == str(published_a.service.unit_id)
    assert row["received"] == "2" and row["category_cost"] == "1" and row["category_time"] == "1"
    assert row["month"].endswith("-01")
    for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_TEXT):
        assert secret not in text


def test_findings_rows_are_final_and_anonymised(
    client: Client,
    national: Any,
    cast: dict[str, Any],
    agency_a: Any,
    unit_a: Any,
    svc_a: Any,  # noqa: F811
) -> None:
    reviewer = cast["ombudsman"]
    final = finding_case(agency_a, unit_a, svc_a, reviewer)
    case_services.case_note_add(case=final, acting_user=reviewer, text=NOTE)
    final = advance(final, reviewer, cast["editor_a"], "monitoring")
    draft = advance(
        finding_case(agency_a, unit_a, svc_a, reviewer),
        reviewer,
        cast["editor_a"],
        "draft_findings",
    )
    header, rows, text = _download(client, "findings")
    assert tuple(header) == FINDING_COLUMNS
    assert [r["finding_id"] for r in rows] == [str(final.finding.pk)]
    assert str(draft.finding.pk) not in {r["finding_id"] for r in rows}
    row = rows[0]
    assert row["outcome"] == "found" and row["categories"] == "undue_delay"
    assert row["action_text"] == "Perbaiki antrean berkas" and row["action_state"] == "open"
    assert row["service_id"] == str(svc_a.pk)
    for secret in (NOTE, "Mengapa terlambat?", reviewer.username, cast["editor_a"].username):
        assert secret not in text


def test_assessments_rows_are_published_only(
    client: Client,
    ombudsman: Any,
    agency_a: Any,
    agency_b: Any,
    published_a: Any,
    method_2022: Any,  # noqa: F811
) -> None:
    done = assess(agency_a, ombudsman, method_2022, 2024, publish=True)
    assess(agency_b, ombudsman, method_2022, 2025, publish=False)
    _header, rows, _text = _download(client, "assessments")
    assert {r["agency_slug"] for r in rows} == {"dinas-a"}
    assert len(rows) == done.dimension_results.count() == 4
    assert {r["grade"] for r in rows} == {done.grade}


def test_location_rows_with_hours_facilities_and_units(
    client: Client, agency_a: Any, unit_a: Any
) -> None:
    mall = make_mall(agency_a, "Mal Pelayanan Publik Kota A")
    counter_attach(unit=unit_a, location=mall, label="Loket 1")
    closed = make_mall(agency_a, "Mal Lama")
    Location.objects.filter(pk=closed.pk).update(is_active=False)
    header, rows, _text = _download(client, "locations")
    assert tuple(header) == LOCATION_COLUMNS
    assert [r["slug"] for r in rows] == [mall.slug]
    row = rows[0]
    assert row["opening_hours"] == "mon 08:00-15:00 | sat 08:00-12:00"
    assert row["facilities"] == "ramp | lactation_room"
    assert row["latitude"] == "-6.911700"
    assert row["units"] == f"dinas-a: {unit_a.name} (Loket 1)"


def test_life_event_rows_are_the_published_steps(
    client: Client,
    birth: Any,  # noqa: F811
    unit_a: Any,
) -> None:
    hidden = life_event_create(kind="business", title="Usaha Rahasia", slug="usaha-rahasia")
    life_event_step_add(event=hidden, service=make_service(unit_a.agency, unit_a, "Izin"))
    header, rows, _text = _download(client, "life-events")
    assert tuple(header) == LIFE_EVENT_COLUMNS
    assert {r["event_slug"] for r in rows} == {"kelahiran"}
    assert [(r["step_order"], r["needs_steps"], r["has_published_standard"]) for r in rows] == [
        ("1", "", "true"),
        ("2", "1", "true"),
        ("3", "2", "false"),
    ]


def test_location_batches_cost_the_same_queries_per_batch(agency_a: Any, unit_a: Any) -> None:
    for i in range(3):
        counter_attach(unit=unit_a, location=make_mall(agency_a, f"Mal {i}"))
    with CaptureQueriesContext(connection) as small:
        assert [len(b) for b in location_batches(batch_size=2)] == [2, 1]
    for i in range(3, 9):
        counter_attach(unit=unit_a, location=make_mall(agency_a, f"Mal {i}"))
    with CaptureQueriesContext(connection) as large:
        assert [len(b) for b in location_batches(batch_size=2)] == [2, 2, 2, 2, 1]
    # Two queries a batch (locations with host; counters with unit and agency).
    assert len(small.captured_queries) == 2 * 2
    assert len(large.captured_queries) == 2 * 5


def test_life_event_batches_cost_the_same_queries_per_batch(
    birth: Any,  # noqa: F811
    unit_a: Any,
) -> None:
    with CaptureQueriesContext(connection) as small:
        assert sum(len(b) for b in life_event_batches(batch_size=1)) == 3
    for i in range(2):
        event = life_event_create(kind="business", title=f"Usaha {i}", slug=f"usaha-{i}")
        for j in range(3):
            service = make_service(unit_a.agency, unit_a, f"Izin {i}-{j}")
            make_published(service)
            life_event_step_add(event=event, service=service)
        life_event_publish(event=event)
    with CaptureQueriesContext(connection) as large:
        assert sum(len(b) for b in life_event_batches(batch_size=1)) == 9
    # Three queries a batch (events; steps with services; prerequisites), and the empty
    # read that ends a run of full batches.
    assert len(small.captured_queries) == 3 * 1 + 1
    assert len(large.captured_queries) == 3 * 3 + 1


@pytest.mark.parametrize("n", [1, 3])
def test_finding_batches_cost_two_queries_a_batch(
    n: int,
    national: Any,
    cast: dict[str, Any],
    agency_a: Any,
    unit_a: Any,
    svc_a: Any,  # noqa: F811
) -> None:
    for _ in range(n):
        advance(
            finding_case(agency_a, unit_a, svc_a, cast["ombudsman"]),
            cast["ombudsman"],
            None,
            "final",
        )
    with CaptureQueriesContext(connection) as ctx:
        batches = list(finding_batches(batch_size=1))
    assert sum(len(b) for b in batches) == n
    # Two queries a batch (findings with case, unit, service, agency; actions) and the empty
    # read that ends a run of full batches.
    assert len(ctx.captured_queries) == 2 * n + 1
