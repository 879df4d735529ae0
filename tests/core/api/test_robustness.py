"""Hostile and junk input on the API: a 4xx problem every time, never a 500, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from delivery.models import ServiceDelivery
from services.models import Service
from tests.problems import problem, problem_fields

NESTED = "[" * 1000 + "]" * 1000


def write_operations(api: APIClient, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Every operation that reads a request body (the others never parse one), on real objects."""
    schema = json.loads(api.get("/api/v1/schema/", {"format": "json"}).content)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in {"post", "put", "patch"} and "requestBody" in operation:
                kind = "service" if path.startswith("/api/v1/services/") else "version"
                found.append((method, path.replace("{id}", str(ids[kind]))))
    return found


def test_deeply_nested_json_is_refused_on_every_write_endpoint(
    api: APIClient, editor_a: Any, draft_a: Any
) -> None:
    api.force_login(editor_a)
    operations = write_operations(api, {"service": draft_a.service_id, "version": draft_a.pk})
    assert len(operations) >= 5
    for method, path in operations:
        response = api.generic(method.upper(), path, NESTED, content_type="application/json")
        assert problem(response, 400)["code"] == "too_deep", (method, path)


def test_nesting_inside_strings_is_not_counted(api: APIClient, editor_a: Any, ktp: Any) -> None:
    api.force_login(editor_a)
    reference = "[" * 100 + '"\\"{'
    body = {"agency": "dinas-a", "items": [dict(BULK_ITEM, reference=reference[:80])]}
    response = api.post("/api/v1/deliveries/bulk/", body, format="json")
    assert response.status_code == 200, response.content


BULK_ITEM = {"service": "ktp", "submitted_at": "2025-07-01T09:00:00+07:00"}


@pytest.fixture
def ktp(unit_a: Any, national: Any) -> Any:
    from tests.registry import make_published, make_service

    service = make_service(unit_a.agency, unit_a, "KTP", slug="ktp")
    make_published(service)
    return service


@pytest.mark.parametrize("text", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b"])
def test_control_characters_in_a_bulk_item_are_refused_with_a_pointer(
    api: APIClient, editor_a: Any, ktp: Any, text: str
) -> None:
    api.force_login(editor_a)
    items = [dict(BULK_ITEM, reference="OK-1"), dict(BULK_ITEM, reference=text)]
    response = api.post(
        "/api/v1/deliveries/bulk/", {"agency": "dinas-a", "items": items}, format="json"
    )
    body = problem(response, 400)
    assert body["code"] == "control_character"
    assert [e["pointer"] for e in body["errors"]] == ["#/items/1/reference"]
    assert not ServiceDelivery.objects.exists()


def test_tabs_and_newlines_stay_allowed(api: APIClient, editor_a: Any, published_a: Any) -> None:
    api.force_login(editor_a)
    response = api.post(
        f"/api/v1/services/{published_a.service_id}/versions/",
        {"change_summary": "Baris satu\n\tbaris dua\r\n"},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_control_characters_in_a_service_name_are_refused(
    api: APIClient, editor_a: Any, unit_a: Any
) -> None:
    api.force_login(editor_a)
    response = api.post(
        "/api/v1/services/",
        {
            "agency": "dinas-a",
            "unit": "unit-a",
            "name": "Surat\x00Pindah",
            "category": "population",
        },
        format="json",
    )
    assert "name" in problem_fields(problem(response, 400))
    assert not Service.objects.filter(name__startswith="Surat").exists()


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/services/", {"q": "ktp\x00"}),
        ("/api/v1/agencies/", {"region_code": "32\x00"}),
        ("/api/v1/units/", {"agency\x01": "x"}),
    ],
)
def test_control_characters_in_the_query_string_are_refused(
    api: APIClient, db: Any, url: str, params: dict[str, str]
) -> None:
    body = problem(api.get(url, params), 400)
    assert body["code"] == "control_character"
    assert {e["parameter"] for e in body["errors"]} == set(params)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/services/", {"page_size": "abc"}),
        ("/api/v1/services/", {"page_size": "0"}),
        ("/api/v1/services/", {"page_size": "100000"}),
        ("/api/v1/services/", {"page_size": "-5"}),
        ("/api/v1/agencies/", {"level": "galaxy"}),
        ("/api/v1/charters/", {"status": "whatever"}),
        ("/api/v1/units/", {"page_size": "1.5"}),
    ],
)
def test_junk_query_values_answer_400_naming_the_parameter(
    api: APIClient, db: Any, url: str, params: dict[str, str]
) -> None:
    body = problem(api.get(url, params), 400)
    assert body["code"] == "invalid"
    assert set(problem_fields(body)) == set(params)


def test_every_operation_documents_its_error_shapes(api: APIClient, db: Any) -> None:
    schema = json.loads(api.get("/api/v1/schema/", {"format": "json"}).content)
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "code",
    ]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            expected = {"400", "401", "403", "404", "406", "429"}
            if method != "get":
                expected |= {"413", "415"}
            assert expected <= codes, (method, path, codes)
            problem_content = operation["responses"]["404"]["content"]
            assert "application/problem+json" in problem_content


def test_a_body_over_the_limit_is_a_413_problem(
    api: APIClient, editor_a: Any, settings: Any, published_a: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    api.force_login(editor_a)
    response = api.patch(
        f"/api/v1/versions/{published_a.pk}/", {"product": "x" * 4096}, format="json"
    )
    assert problem(response, 413)["code"] == "too_large"
