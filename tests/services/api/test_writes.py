"""Write endpoints: validation, the error shape, immutability, the life cycle."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from services.models import Service, StandardVersion
from tests.problems import problem, problem_fields
from tests.registry import make_service
from tests.services.api.test_permissions import snapshot


@pytest.fixture
def editor(editor_a: Any, as_user: Any) -> APIClient:
    return as_user(editor_a)


@pytest.fixture
def approver(approver_a: Any, as_user: Any) -> APIClient:
    return as_user(approver_a)


def _fields_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body = problem(response, 400)
    assert body["code"] == "invalid"
    return problem_fields(body)


# --- Create a service -----------------------------------------------------------------------


def test_create_service_returns_the_service(editor: APIClient, unit_a: Any) -> None:
    response = editor.post(
        "/api/v1/services/",
        {
            "agency": "dinas-a",
            "unit": "unit-a",
            "name": "Kartu Identitas Anak",
            "category": "population",
            "channels": ["counter", "online", "counter"],
            "keywords": "KIA",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "kartu-identitas-anak"
    assert body["channels"] == ["counter", "online"]
    assert body["current_version"] is None
    service = Service.objects.get(pk=body["id"])
    assert service.history.get().history_user.username == "editor_a"


@pytest.mark.parametrize(
    ("payload", "bad_fields"),
    [
        ({}, {"agency", "unit", "name"}),
        ({"agency": "dinas-a", "unit": "unit-a"}, {"name"}),
        ({"agency": "tidak-ada", "unit": "unit-a", "name": "X"}, {"agency"}),
        ({"agency": "dinas-a", "unit": "unit-lain", "name": "X"}, {"unit"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": "X", "category": "sport"}, {"category"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": "X", "channels": "online"}, {"channels"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": "X", "channels": ["fax"]}, {"channels"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": "x" * 201}, {"name"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": ["X"]}, {"name"}),
        ({"agency": "dinas-a", "unit": "unit-a", "name": "X", "slug": "bad slug"}, {"slug"}),
    ],
)
def test_create_service_rejects_bad_input(
    editor: APIClient, unit_a: Any, unit_b: Any, payload: dict[str, Any], bad_fields: set[str]
) -> None:
    before = snapshot()
    assert (
        set(_fields_error(editor.post("/api/v1/services/", payload, format="json"))) == bad_fields
    )
    assert snapshot() == before


def test_a_unit_of_another_agency_is_unknown_here(
    editor: APIClient, unit_a: Any, unit_b: Any
) -> None:
    response = editor.post(
        "/api/v1/services/", {"agency": "dinas-a", "unit": "unit-b", "name": "X"}, format="json"
    )
    assert set(_fields_error(response)) == {"unit"}


def test_malformed_json_is_a_400(editor: APIClient, unit_a: Any) -> None:
    response = editor.post("/api/v1/services/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"


# --- Create and update drafts ----------------------------------------------------------------

VALID_DRAFT: dict[str, Any] = {
    "change_summary": "Versi pertama",
    "processing_time_value": 3,
    "processing_time_unit": "working_days",
    "is_free": False,
    "product": "Izin",
    "legal_basis": ["Perda 1/2024"],
    "facilities": ["toilets", "disability_access", "toilets"],
    "staff_count": 2,
    "requirements": [{"name": "KTP-el", "is_mandatory": False}, {"name": "NPWP"}],
    "steps": [{"actor": "Petugas", "description": "Verifikasi", "duration_value": 30}],
    "cost_items": [{"name": "Retribusi", "amount": 25_000, "legal_basis": "Perda 1/2024"}],
    "complaint_channels": [{"kind": "lapor", "value": "lapor.go.id"}],
}


def test_create_draft_with_children(editor: APIClient, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a, "Izin Reklame")
    response = editor.post(f"/api/v1/services/{service.pk}/versions/", VALID_DRAFT, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1 and body["status"] == "draft"
    assert body["service"]["id"] == service.pk
    assert body["total_cost"] == 25_000
    assert body["facilities"] == ["toilets", "disability_access"]
    assert [r["name"] for r in body["requirements"]] == ["KTP-el", "NPWP"]
    assert body["requirements"][0]["is_mandatory"] is False
    assert body["steps"][0]["duration_unit"] == "minutes"
    version = StandardVersion.objects.get(pk=body["id"])
    assert version.created_by is not None and version.created_by.username == "editor_a"
    assert [r.position for r in version.requirements.all()] == [1, 2]
    assert body["completeness"]["missing"] == [
        "staff_competence",
        "internal_supervision",
        "service_guarantee",
        "safety_security",
        "performance_evaluation",
    ]


BAD_CONTENT: list[tuple[dict[str, Any], str]] = [
    ({"cost_items": [{"name": "Retribusi", "amount": -5}]}, "cost_items"),
    ({"cost_items": [{"name": "Retribusi", "amount": "banyak"}]}, "cost_items"),
    ({"cost_items": [{"amount": 5}]}, "cost_items"),
    ({"cost_items": {"name": "Retribusi", "amount": 5}}, "cost_items"),
    ({"requirements": [{"name": ""}]}, "requirements"),
    ({"requirements": "KTP"}, "requirements"),
    ({"steps": [{"actor": "Petugas"}]}, "steps"),
    ({"steps": [{"actor": "A", "description": "B", "duration_unit": "weeks"}]}, "steps"),
    ({"complaint_channels": [{"kind": "pigeon", "value": "x"}]}, "complaint_channels"),
    ({"processing_time_value": -1}, "processing_time_value"),
    ({"processing_time_value": "lima"}, "processing_time_value"),
    ({"processing_time_unit": "weeks"}, "processing_time_unit"),
    ({"clock_start": "whenever"}, "clock_start"),
    ({"is_free": "maybe"}, "is_free"),
    ({"facilities": ["helipad"]}, "facilities"),
    ({"legal_basis": "UU 25/2009"}, "legal_basis"),
    ({"legal_basis": [{"title": "UU"}]}, "legal_basis"),
    ({"decree_date": "kemarin"}, "decree_date"),
    ({"staff_count": 1.5}, "staff_count"),
    ({"change_summary": "x" * 301}, "change_summary"),
    ({"is_free": True, "cost_items": [{"name": "Retribusi", "amount": 1}]}, "is_free"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_CONTENT)
def test_create_draft_rejects_bad_content(
    editor: APIClient, published_a: Any, payload: dict[str, Any], field: str
) -> None:
    before = snapshot()
    response = editor.post(
        f"/api/v1/services/{published_a.service_id}/versions/", payload, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in problem_fields(problem(response))
    assert snapshot() == before


@pytest.mark.parametrize(("payload", "field"), BAD_CONTENT)
def test_update_draft_rejects_bad_content(
    editor: APIClient, draft_a: Any, payload: dict[str, Any], field: str
) -> None:
    before = snapshot()
    response = editor.patch(f"/api/v1/versions/{draft_a.pk}/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in problem_fields(problem(response))
    assert snapshot() == before


def test_patch_changes_only_what_is_given(editor: APIClient, draft_a: Any) -> None:
    response = editor.patch(
        f"/api/v1/versions/{draft_a.pk}/",
        {"product": "Akta", "steps": [{"actor": "Kepala", "description": "Tanda tangan"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["product"] == "Akta"
    assert [s["actor"] for s in body["steps"]] == ["Kepala"]
    # Untouched: the other scalars and child lists.
    assert body["processing_time_value"] == 5
    assert [r["name"] for r in body["requirements"]] == ["KTP-el", "Kartu Keluarga"]


def test_put_replaces_the_whole_content(editor: APIClient, draft_a: Any) -> None:
    response = editor.put(
        f"/api/v1/versions/{draft_a.pk}/",
        {"product": "Akta", "processing_time_value": 2},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["product"], body["processing_time_value"]) == ("Akta", 2)
    assert body["staff_competence"] == ""
    assert body["legal_basis"] == [] and body["facilities"] == []
    assert body["is_free"] is False
    assert body["requirements"] == [] and body["steps"] == []
    assert body["completeness"]["score"] == 2  # processing time and product


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_published_version_cannot_be_changed(
    method: str, approver: APIClient, published_a: Any
) -> None:
    before = snapshot()
    response = getattr(approver, method)(
        f"/api/v1/versions/{published_a.pk}/",
        {"product": "Diam-diam diubah", "requirements": []},
        format="json",
    )
    assert response.status_code in (400, 409)
    assert problem(response)["code"] == "immutable"
    assert snapshot() == before


# --- Life cycle ---------------------------------------------------------------------------------


def test_draft_to_published_through_the_api(
    editor: APIClient, approver_a: Any, published_a: Any
) -> None:
    new = editor.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")
    assert new.status_code == 201
    draft_id = new.json()["id"]
    assert new.json()["requirements"] == [
        {
            "name": "KTP-el",
            "is_mandatory": True,
            "where_to_get": "",
            "copies": "",
            "legal_basis": "",
        },
        {
            "name": "Kartu Keluarga",
            "is_mandatory": True,
            "where_to_get": "",
            "copies": "",
            "legal_basis": "",
        },
    ]
    again = editor.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")
    assert again.status_code == 400
    assert problem(again)["code"] == "draft_exists"

    editor.patch(f"/api/v1/versions/{draft_id}/", {"change_summary": "Lebih cepat"}, format="json")
    submitted = editor.post(f"/api/v1/versions/{draft_id}/submit/")
    assert submitted.json()["status"] == "awaiting_approval"
    twice = editor.post(f"/api/v1/versions/{draft_id}/submit/")
    assert twice.status_code == 400
    assert problem(twice)["code"] == "invalid_transition"

    editor.force_login(approver_a)
    published = editor.post(
        f"/api/v1/versions/{draft_id}/publish/",
        {"decree_number": "SK 9/2025", "decree_date": "2025-04-01"},
        format="json",
    )
    assert published.status_code == 200, published.content
    body = published.json()
    assert (body["status"], body["decree_number"], body["decree_date"]) == (
        "published",
        "SK 9/2025",
        "2025-04-01",
    )
    assert body["next_review_date"] is not None
    old = StandardVersion.objects.get(pk=published_a.pk)
    assert old.status == "superseded"
    current = editor.get(f"/api/v1/services/{published_a.service_id}/").json()["current_version"]
    assert current["id"] == draft_id


def test_publishing_an_incomplete_standard_needs_an_acknowledgement(
    approver: APIClient, unit_a: Any
) -> None:
    service = make_service(unit_a.agency, unit_a, "Izin Keramaian")
    created = approver.post(
        f"/api/v1/services/{service.pk}/versions/",
        {"processing_time_value": 1, "product": "Surat izin"},
        format="json",
    )
    version_id = created.json()["id"]
    before = snapshot()
    refused = approver.post(f"/api/v1/versions/{version_id}/publish/", {}, format="json")
    assert refused.status_code == 400
    error = problem(refused)
    assert error["code"] == "incomplete"
    assert "acknowledge_incomplete" in problem_fields(error)
    assert snapshot() == before

    accepted = approver.post(
        f"/api/v1/versions/{version_id}/publish/", {"acknowledge_incomplete": True}, format="json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["incomplete_acknowledged"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"acknowledge_incomplete": "perhaps"}, "acknowledge_incomplete"),
        ({"decree_date": "2025-13-45"}, "decree_date"),
        ({"decree_number": "x" * 121}, "decree_number"),
        ({"effective_date": 20250101}, "effective_date"),
    ],
)
def test_publish_rejects_bad_input(
    approver: APIClient, draft_a: Any, payload: dict[str, Any], field: str
) -> None:
    before = snapshot()
    response = approver.post(f"/api/v1/versions/{draft_a.pk}/publish/", payload, format="json")
    assert set(_fields_error(response)) == {field}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/versions/999999/"),
        ("patch", "/api/v1/versions/999999/"),
        ("post", "/api/v1/versions/999999/submit/"),
        ("post", "/api/v1/services/999999/versions/"),
        ("get", "/api/v1/services/999999/versions/"),
        ("post", "/api/v1/versions/abc/publish/"),
        ("get", "/api/v1/agencies/tidak-ada/"),
        ("get", "/api/v1/charters/999999/"),
    ],
)
def test_unknown_objects_are_404_with_the_error_shape(
    editor: APIClient, method: str, url: str
) -> None:
    response = getattr(editor, method)(url, {}, format="json")
    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_session_writes_need_the_csrf_token(editor_a: Any, draft_a: Any) -> None:
    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(editor_a)
    response = strict.post(f"/api/v1/versions/{draft_a.pk}/submit/")
    assert response.status_code == 403
    assert StandardVersion.objects.get(pk=draft_a.pk).status == "draft"


def test_the_write_endpoints_speak_json(editor: APIClient, draft_a: Any) -> None:
    response = editor.patch(f"/api/v1/versions/{draft_a.pk}/", {"product": "x"})  # multipart
    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


def test_an_empty_draft_can_be_started(editor: APIClient, published_a: Any) -> None:
    response = editor.post(
        f"/api/v1/services/{published_a.service_id}/versions/", {}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["completeness"]["score"] == 0


def test_methods_that_are_not_offered_are_405(editor: APIClient, draft_a: Any) -> None:
    assert editor.delete(f"/api/v1/versions/{draft_a.pk}/").status_code == 405
    assert editor.get(f"/api/v1/versions/{draft_a.pk}/publish/").status_code == 405
