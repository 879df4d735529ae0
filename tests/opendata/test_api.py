"""Composed public reads of /api/v1/ (opendata.api): performance figures and SKM results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from delivery.services import delivery_record
from feedback.periods import period_of
from tests.opendata.world import survey
from tests.problems import problem, problem_fields
from tests.registry import make_draft, make_published, make_service

JAKARTA = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def test_performance_of_a_service_shows_what_the_pages_show(
    api: APIClient, national: Any, unit_a: Any
) -> None:
    service = make_service(unit_a.agency, unit_a, "Izin Usaha")
    make_published(service, processing_time_value=3)
    now = dt.datetime.now(tz=JAKARTA)
    for i in range(3):
        delivery_record(
            service=service,
            reference=f"R-{i}",
            submitted_at=now + dt.timedelta(seconds=1),
            completed_at=now + dt.timedelta(seconds=2),
        )
    body = api.get(f"/api/v1/services/{service.pk}/performance/").json()
    assert body["scope"] == "service" and body["id"] == service.pk
    assert body["completed"] == 3
    assert body["on_time_rate"] is None and body["rate_withheld"] == "small_sample"
    assert body["promise_value"] == 3
    assert [p["months"] for p in body["periods"]] == [3, 6, 12]
    assert len(body["by_month"]) == 12
    assert sum(m["completed"] for m in body["by_month"]) == 3
    short = api.get(f"/api/v1/services/{service.pk}/performance/", {"months": "2"}).json()
    assert len(short["by_month"]) == 2
    unit = api.get(f"/api/v1/units/{unit_a.pk}/performance/").json()
    assert unit["scope"] == "unit" and unit["completed"] == 3


def test_performance_of_a_draft_only_service_is_not_public(
    api: APIClient, draft_a: Any, unit_b: Any
) -> None:
    assert problem(api.get(f"/api/v1/services/{draft_a.service_id}/performance/"), 404)
    unit_b.is_active = False
    unit_b.save()
    assert problem(api.get(f"/api/v1/units/{unit_b.pk}/performance/"), 404)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"months": "0"}, "months"),
        ({"months": "37"}, "months"),
        ({"months": "abc"}, "months"),
        ({"until": "2026-13-01"}, "until"),
        ({"until": "1900-01-01"}, "until"),
    ],
)
def test_bad_performance_parameters_are_a_400_problem(
    api: APIClient, published_a: Any, params: dict[str, str], parameter: str
) -> None:
    response = api.get(f"/api/v1/services/{published_a.service_id}/performance/", params)
    assert parameter in problem_fields(problem(response, 400))


def test_skm_results_per_quarter_with_grades(api: APIClient, published_a: Any) -> None:
    unit = published_a.service.unit
    survey(unit, published_a.service, [4] * 9, 3, "2026-Q1")
    survey(unit, None, [3] * 9, 2, "2026-Q2")
    body = api.get(f"/api/v1/units/{unit.pk}/skm/").json()
    assert body["unit"] == unit.pk and body["service"] is None
    first, second = body["periods"]
    assert first["period"] == "2026-Q1" and first["respondents"] == 3
    assert first["converted_index"] == "100.00" and first["grade"] == "A"
    assert [e["code"] for e in first["elements"]] == [f"U{i}" for i in range(1, 10)]
    assert second["converted_index"] == "75.00" and second["grade"] == "C"
    only = api.get(f"/api/v1/units/{unit.pk}/skm/", {"service": published_a.service_id}).json()
    assert [p["period"] for p in only["periods"]] == ["2026-Q1"]
    english = api.get(f"/api/v1/units/{unit.pk}/skm/", HTTP_ACCEPT_LANGUAGE="en").json()
    indonesian = api.get(f"/api/v1/units/{unit.pk}/skm/", HTTP_ACCEPT_LANGUAGE="id").json()
    assert english["periods"][0]["elements"][0]["name"] == "Requirements"
    assert indonesian["periods"][0]["elements"][0]["name"] != "Requirements"


def test_skm_for_a_service_of_another_unit_is_404(
    api: APIClient, published_a: Any, unit_b: Any
) -> None:
    response = api.get(f"/api/v1/units/{unit_b.pk}/skm/", {"service": published_a.service_id})
    assert problem(response, 404)


def test_figures_answer_conditional_gets(api: APIClient, published_a: Any) -> None:
    unit = published_a.service.unit
    url = f"/api/v1/units/{unit.pk}/skm/"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    survey(unit, None, [2] * 9, 1, period_of(timezone.localdate()))
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_skm_costs_a_constant_number_of_queries(api: APIClient, published_a: Any) -> None:
    unit = published_a.service.unit
    survey(unit, None, [3] * 9, 2, "2025-Q1")
    with CaptureQueriesContext(connection) as few:
        api.get(f"/api/v1/units/{unit.pk}/skm/")
    for quarter in ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"):
        survey(unit, published_a.service, [4] * 9, 20, quarter)
    with CaptureQueriesContext(connection) as many:
        api.get(f"/api/v1/units/{unit.pk}/skm/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_draft_in_another_unit_does_not_leak(api: APIClient, unit_a: Any) -> None:
    draft = make_draft(make_service(unit_a.agency, unit_a, "Rahasia"))
    response = api.get(f"/api/v1/units/{unit_a.pk}/skm/", {"service": draft.service_id})
    assert problem(response, 404)
