"""The conventions of /api/v1/ (docs/api.md): cursor pagination stable under inserts,
conditional GETs answered 304, sparse fieldsets, ordering, the read throttle, and bad
parameters answered with a 400 problem."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from services.models import Service
from tests.problems import problem, problem_fields
from tests.registry import make_published, make_service, republish


def _services(unit: Any, n: int, start: int = 0) -> list[Service]:
    services = []
    for i in range(start, start + n):
        service = make_service(unit.agency, unit, f"Layanan {i:03d}")
        make_published(service)
        services.append(service)
    return services


# --- Cursor pagination ----------------------------------------------------------------


def test_cursor_pages_neither_repeat_nor_skip_rows_when_rows_are_inserted(
    api: APIClient, unit_a: Any
) -> None:
    first_batch = _services(unit_a, 7)
    seen: list[int] = []
    page = api.get("/api/v1/services/", {"page_size": 3}).json()
    seen += [s["id"] for s in page["results"]]
    inserted = 0
    while page["next"]:
        # Rows arrive between every two requests (the newest sort last, by id).
        _services(unit_a, 2, start=100 + inserted)
        inserted += 2
        page = api.get(page["next"]).json()
        seen += [s["id"] for s in page["results"]]
    assert len(seen) == len(set(seen)), "a row was served twice"
    everything = set(Service.objects.values_list("pk", flat=True))
    assert {s.pk for s in first_batch} <= set(seen)
    # Each row inserted ahead of the cursor is reached too: nothing is skipped.
    assert set(seen) == everything


def test_cursor_pages_in_the_descending_order_under_inserts(api: APIClient, unit_a: Any) -> None:
    before = _services(unit_a, 5)
    page = api.get("/api/v1/services/", {"page_size": "2", "ordering": "-id"}).json()
    seen = [s["id"] for s in page["results"]]
    while page["next"]:
        _services(unit_a, 1, start=200 + len(seen))  # newer rows: before the cursor
        page = api.get(page["next"]).json()
        seen += [s["id"] for s in page["results"]]
    assert seen == sorted((s.pk for s in before), reverse=True)


def test_ordering_by_name_pages_through_every_row(api: APIClient, unit_a: Any) -> None:
    _services(unit_a, 5)
    page = api.get("/api/v1/services/", {"page_size": "2", "ordering": "-name"}).json()
    names = [s["name"] for s in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        names += [s["name"] for s in page["results"]]
    assert names == sorted(names, reverse=True) and len(names) == 5


@pytest.mark.parametrize(
    ("url", "params", "parameter"),
    [
        ("/api/v1/services/", {"cursor": "not-a-cursor"}, "cursor"),
        ("/api/v1/agencies/", {"cursor": "%%%"}, "cursor"),
        ("/api/v1/services/", {"page_size": "0"}, "page_size"),
        ("/api/v1/versions/", {"page_size": "501"}, "page_size"),
        ("/api/v1/services/", {"ordering": "secret_field"}, "ordering"),
        ("/api/v1/units/", {"ordering": "address"}, "ordering"),
        ("/api/v1/services/", {"fields": "id,password"}, "fields"),
        ("/api/v1/versions/", {"fields": "nope"}, "fields"),
        ("/api/v1/versions/", {"status": "lost"}, "status"),
        ("/api/v1/versions/", {"published_since": "yesterday"}, "published_since"),
    ],
)
def test_bad_parameters_are_a_400_problem_naming_the_parameter(
    api: APIClient, published_a: Any, url: str, params: dict[str, str], parameter: str
) -> None:
    body = problem(api.get(url, params), 400)
    assert parameter in problem_fields(body)


# --- Sparse fieldsets ------------------------------------------------------------------


def test_sparse_fieldsets_trim_the_items_of_a_list(api: APIClient, published_a: Any) -> None:
    items = api.get("/api/v1/services/", {"fields": "id,name"}).json()["results"]
    assert items == [{"id": published_a.service_id, "name": "KTP Elektronik"}]
    versions = api.get("/api/v1/versions/", {"fields": "id,requirements"}).json()["results"]
    assert set(versions[0]) == {"id", "requirements"}
    # A detail always has every field.
    detail = api.get(f"/api/v1/services/{published_a.service_id}/", {"fields": "id"}).json()
    assert {"id", "name", "current_version"} <= set(detail)


# --- Versions as data ------------------------------------------------------------------


def test_the_version_list_has_all_14_components_and_filters(
    api: APIClient, published_a: Any, draft_a: Any
) -> None:
    versions = api.get("/api/v1/versions/").json()["results"]
    assert [v["id"] for v in versions] == [published_a.pk]  # no draft for the public
    version = versions[0]
    for key in (
        "requirements",
        "steps",
        "processing_time_value",
        "cost_items",
        "product",
        "complaint_channels",
        "legal_basis",
        "facilities",
        "staff_competence",
        "internal_supervision",
        "staff_count",
        "service_guarantee",
        "safety_security",
        "performance_evaluation",
    ):
        assert key in version, key
    assert version["service"]["id"] == published_a.service_id
    assert api.get("/api/v1/versions/", {"status": "superseded"}).json()["results"] == []
    other = api.get("/api/v1/versions/", {"agency": "dinas-b"}).json()["results"]
    assert other == []


# --- Conditional GET -------------------------------------------------------------------


def test_a_published_version_answers_304_and_its_etag_never_changes(
    api: APIClient, published_a: Any
) -> None:
    url = f"/api/v1/versions/{published_a.pk}/"
    first = api.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag and first["Last-Modified"]
    with CaptureQueriesContext(connection) as ctx:
        again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert len(ctx.captured_queries) == 1  # the validators only, no content
    since = api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    # Unrelated writes to the row (a touch of updated_at) leave a published ETag alone.
    published_a.service.save()
    type(published_a).objects.filter(pk=published_a.pk).update(updated_at=published_a.updated_at)
    assert api.get(url)["ETag"] == etag
    assert api.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # Another language is another representation.
    assert api.get(url, HTTP_ACCEPT_LANGUAGE="en")["ETag"] != etag


def test_a_list_answers_304_until_a_row_changes(api: APIClient, published_a: Any) -> None:
    url = "/api/v1/services/"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url, {"category": "population"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    republish(published_a, change_summary="Baru")  # a new standard: the list changed
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert api.get(url, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


@pytest.mark.parametrize("url", ["/api/v1/agencies/", "/api/v1/units/", "/api/v1/charters/"])
def test_every_list_answers_conditional_gets(api: APIClient, published_a: Any, url: str) -> None:
    first = api.get(url)
    assert first.status_code == 200
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_staff_and_public_lists_have_different_etags(
    as_user: Any, cast: dict[str, Any], published_a: Any, draft_a: Any
) -> None:
    public = as_user(cast["anonymous"]).get("/api/v1/services/")["ETag"]
    staff = as_user(cast["editor_a"]).get("/api/v1/services/")["ETag"]
    assert public != staff


# --- Language --------------------------------------------------------------------------


def test_accept_language_picks_the_language_of_labels_and_errors(
    api: APIClient, published_a: Any
) -> None:
    english = problem(api.get("/api/v1/services/", {"page_size": "x"}, HTTP_ACCEPT_LANGUAGE="en"))
    indonesian = problem(
        api.get("/api/v1/services/", {"page_size": "x"}, HTTP_ACCEPT_LANGUAGE="id")
    )
    assert english["detail"] != indonesian["detail"]
    response = api.get("/api/v1/services/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
    assert "Accept-Language" in response["Vary"]


# --- Throttling ------------------------------------------------------------------------


def test_reads_are_throttled_per_address_with_a_problem(
    api: APIClient, published_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"read": "3/min"})
    statuses = [api.get("/api/v1/agencies/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/v1/services/")
    assert problem(refused, 429)["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    cache.clear()
