"""The review desk's export: the current filtered view (every page, in its order) as CSV and
XLSX, streamed; reviewers only; never the complainant's identity; memory flat in size."""

from __future__ import annotations

import csv
import gc
import html
import io
import re
import tracemalloc
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from core.exporting import csv_chunks
from oversight.models import Breach, CitizenFollower
from oversight.selectors import DESK_EXPORT_COLUMNS, desk_cursor, desk_export_rows, review_desk
from tests.accounts.conftest import login_verified
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach
from tests.oversight import test_review_desk as desk_tests

# The fixtures, shared.
service = notifications_conftest.service
reviewer, world = desk_tests.reviewer, desk_tests.world
QUEUE = desk_tests.QUEUE

CSV = "/staff/breaches/queue/export.csv"
XLSX = "/staff/breaches/queue/export.xlsx"


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.status_code
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    header, *body = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in body]


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["breach_id"]) for row in rows]


# --- Who may export ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [CSV, XLSX])
@pytest.mark.parametrize("who", ["admin_a", "editor_a", "editor_b"])
def test_agency_staff_cannot_export_the_desk(client, cast, world, who, url):
    login_verified(client, cast[who])
    response = client.get(url)
    assert response.status_code == 403
    assert "text/html" in response["Content-Type"]


@pytest.mark.parametrize("url", [CSV, XLSX])
def test_anonymous_is_sent_to_log_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", [CSV, XLSX])
def test_an_unverified_reviewer_must_pass_two_factor(client, ombudsman, world, url):
    client.force_login(ombudsman)
    assert client.get(url).status_code == 302


def test_the_export_is_read_only(reviewer, world):
    assert reviewer.post(CSV).status_code == 405


# --- What it holds ---------------------------------------------------------------------------


def test_the_default_export_is_the_default_view_in_its_order(reviewer, world):
    rows = csv_rows(reviewer.get(CSV))
    # Awaiting a decision, oldest breach first, across agencies; closed and off-desk out.
    assert ids(rows) == [world[k].pk for k in ("old_a", "disputed_b", "pulled_b", "new_a")], (
        "the page's default order"
    )
    by_id = {int(row["breach_id"]): row for row in rows}
    disputed = by_id[world["disputed_b"].pk]
    assert disputed["on_desk_because"] == "disputed"
    assert disputed["status"] == "acknowledged"
    assert disputed["agency_region_code"] == "35.78"
    assert by_id[world["old_a"].pk]["on_desk_because"] == "escalated"
    assert by_id[world["old_a"].pk]["service"] == "Akta Kelahiran"
    pulled = by_id[world["pulled_b"].pk]
    assert pulled["on_desk_because"] == "pulled"
    assert pulled["assigned_to"] == world["pulled_b"].assignee.username
    assert list(rows[0]) == list(DESK_EXPORT_COLUMNS)


@pytest.mark.parametrize("reader,url", [(csv_rows, CSV), (xlsx_rows, XLSX)], ids=["csv", "xlsx"])
@pytest.mark.parametrize(
    "query,expected",
    [
        ({"kind": "overcharge"}, ["new_a"]),
        ({"region": "35"}, ["disputed_b", "pulled_b"]),
        ({"reason": "disputed"}, ["disputed_b"]),
        ({"assigned": "me"}, ["pulled_b"]),
        (
            {"status": "all", "sort": "newest"},
            ["new_a", "pulled_b", "disputed_b", "closed_a", "old_a"],
        ),
        ({"status": "closed"}, ["closed_a"]),
        ({"age": "25"}, ["old_a"]),
        ({"category": "illegal_charge"}, ["new_a"]),
    ],
)
def test_the_export_honours_the_filters_and_the_order(
    reviewer, world, agency_a, query, expected, reader, url
):
    rows = reader(reviewer.get(url, query))
    assert ids(rows) == [world[key].pk for key in expected]


def test_the_export_takes_every_page_not_just_the_cursor(reviewer, world):
    # The page cursor (after=) is not a filter: the export starts at the top.
    first = Breach.objects.get(pk=world["new_a"].pk)
    query = {"sort": "newest", "after": desk_cursor("newest", first)}
    assert len(csv_rows(reviewer.get(CSV, query))) == 4


def test_bad_filters_are_refused_with_the_page_and_its_errors(reviewer, world):
    response = reviewer.get(CSV, {"agency": "999999", "age": "-3"})
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    assert "field-error" in response.content.decode()


def test_the_queue_links_to_the_export_of_its_current_filters(reviewer, world):
    response = reviewer.get(QUEUE, {"kind": "overcharge", "sort": "newest"})
    page = response.content.decode()
    links = {
        kind: html.unescape(href)
        for href, kind in re.findall(r'<a href="([^"]+)" data-export="(\w+)"', page)
    }
    assert links == {
        "csv": f"{CSV}?kind=overcharge&sort=newest",
        "xlsx": f"{XLSX}?kind=overcharge&sort=newest",
    }
    assert ids(csv_rows(reviewer.get(links["csv"]))) == [world["new_a"].pk]


def test_the_export_never_names_who_complained_or_follows(reviewer, service, ombudsman):
    breach = late_breach(service, ref="REF-SECRET-77")
    assert breach.delivery is not None
    breach.on_desk_at = timezone.now()
    breach.save(update_fields=["on_desk_at"])
    CitizenFollower.objects.create(
        delivery=breach.delivery, email="warga.rahasia@example.org", confirmed_at=timezone.now()
    )
    for url in (CSV, XLSX):
        response = reviewer.get(url)
        body = b"".join(response.streaming_content)
        if url == CSV:
            assert str(breach.pk).encode() in body
            text = body.decode("utf-8-sig")
        else:
            workbook = openpyxl.load_workbook(io.BytesIO(body))
            text = repr(list(workbook.active.iter_rows(values_only=True)))
            assert f"({breach.pk}," in text
        assert "warga.rahasia" not in text
        assert "REF-SECRET-77" not in text
        assert breach.delivery.tracking_code not in text
    assert not {"email", "reference", "tracking_code", "subject_id", "delivery"} & set(
        DESK_EXPORT_COLUMNS
    )


def test_a_formula_in_a_name_is_written_as_text(reviewer, world, agency_a):
    agency_a.name = "=HYPERLINK(1)"
    agency_a.save()
    rows = csv_rows(reviewer.get(CSV, {"agency": str(agency_a.pk)}))
    assert {row["agency"] for row in rows} == {"'=HYPERLINK(1)"}


# --- Flat in size ----------------------------------------------------------------------------


def _many(n: int, agency: Any, unit: Any) -> None:
    now = timezone.now()
    start = Breach.objects.count()
    Breach.objects.bulk_create(
        Breach(
            kind="late_delivery",
            subject_type="delivery",
            subject_id=10_000_000 + start + i,
            agency=agency,
            unit=unit,
            occurred_at=now,
            detected_at=now,
            on_desk_at=now,
            suggested_category="undue_delay",
        )
        for i in range(n)
    )


def test_the_export_reads_in_chunks_with_a_flat_query_count(
    reviewer, agency_a, unit_a, django_assert_max_num_queries, django_assert_num_queries
):
    _many(30, agency_a, unit_a)
    reviewer.get(QUEUE)  # warm the session
    with django_assert_max_num_queries(8) as small:
        assert len(csv_rows(reviewer.get(CSV))) == 30
    _many(2500, agency_a, unit_a)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(csv_rows(reviewer.get(CSV))) == 2530


def test_the_export_memory_is_flat(ombudsman, agency_a, unit_a):
    def consume() -> tuple[int, int]:
        rows = desk_export_rows(queryset=review_desk(user=ombudsman), sort="oldest")
        gc.collect()
        tracemalloc.start()
        try:
            size = sum(len(chunk) for chunk in csv_chunks(DESK_EXPORT_COLUMNS, rows))
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    _many(10, agency_a, unit_a)
    consume()  # imports and first-use caches, outside the measurement
    _many(1990, agency_a, unit_a)
    small_peak, small_size = consume()
    _many(10_000, agency_a, unit_a)
    large_peak, large_size = consume()
    assert large_size > 5 * small_size  # the output did grow 6x...
    # ...and the memory did not: the peak holds one or two chunks of 1,000 rows (which of
    # the two depends on when the collector runs), whatever the number of rows.
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
