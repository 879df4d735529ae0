"""The charter API's writes: the permission matrix (people and agency API keys), problem
bodies on errors, audit, and the OpenAPI schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from charter.models import Charter, CharterStatus
from tests.charter.conftest import charter_snapshot, make_charter
from tests.problems import problem, problem_fields

ANON = "401/403"
ACTORS = [
    "anonymous",
    "editor_a",
    "approver_a",
    "admin_a",
    "admin_b",
    "editor_b",
    "ombudsman",
    "key_read_a",
    "key_rw_a",
    "key_rw_b",
]
SUCCESS = {"create": 201, "update": 200, "publish": 200, "new_version": 201, "withdraw": 200}


def _row(create: Any, edit: Any, approve: Any) -> dict[str, Any]:
    row = {"create": create, "update": edit, "new_version": edit}
    row.update(publish=approve, withdraw=approve)
    return {k: SUCCESS[k] if v == "ok" else v for k, v in row.items()}


EXPECTED: dict[str, dict[str, Any]] = {
    "anonymous": _row(ANON, ANON, ANON),
    "editor_a": _row("ok", "ok", 403),
    "approver_a": _row("ok", "ok", "ok"),
    "admin_a": _row(403, 403, 403),  # manages the agency, not its charters
    "admin_b": _row(403, 404, 404),  # another agency's charters do not exist for them
    "editor_b": _row(403, 404, 404),
    "ombudsman": _row(403, 403, 403),  # reads everything, writes nothing
    "key_read_a": _row(403, 403, 403),
    "key_rw_a": _row("ok", "ok", 403),  # a key may do what an editor may, never more
    "key_rw_b": _row(403, 404, 404),
}


@pytest.fixture
def objects(unit_a: Any, service_a: Any, editor_a: Any, published_charter: Charter) -> Any:
    from tests import factories

    drafted = factories.UnitFactory(agency=unit_a.agency, slug="unit-a2")
    empty = factories.UnitFactory(agency=unit_a.agency, slug="unit-a3")
    return {
        "published": published_charter,
        "draft": make_charter(drafted, [service_a], editor_a),
        "empty_unit": empty,
        "service": service_a,
    }


def _call(name: str, api: Any, o: dict[str, Any]) -> Any:
    if name == "create":
        return api.post(
            "/api/v1/charters/",
            {
                "unit": o["empty_unit"].pk,
                "services": [o["service"].pk],
                "signatory_name": "Drs. Budi Santoso",
                "signatory_title": "Kepala Dinas",
                "signed_on": "2026-02-01",
                "compensation_per_day": 10000,
                "decree_number": "800/3/2026",
            },
            format="json",
        )
    if name == "update":
        return api.patch(
            f"/api/v1/charters/{o['draft'].pk}/", {"sanction_statement": "Siap disanksi."}, "json"
        )
    if name == "publish":
        return api.post(f"/api/v1/charters/{o['draft'].pk}/publish/", format="json")
    if name == "new_version":
        return api.post(f"/api/v1/charters/{o['published'].pk}/new-version/", format="json")
    return api.post(
        f"/api/v1/charters/{o['published'].pk}/withdraw/", {"reason": "Reorganisasi."}, "json"
    )


def _check_effect(name: str, body: dict[str, Any], o: dict[str, Any]) -> None:
    if name == "create":
        created = Charter.objects.get(pk=body["id"])
        assert (created.unit_id, created.status, created.decree_number) == (
            o["empty_unit"].pk,
            CharterStatus.DRAFT,
            "800/3/2026",
        )
        assert [s["id"] for s in body["services"]] == [o["service"].pk]
    elif name == "update":
        assert Charter.objects.get(pk=o["draft"].pk).sanction_statement == "Siap disanksi."
    elif name == "publish":
        assert body["status"] == "published"
    elif name == "new_version":
        assert (body["number"], body["status"]) == (2, "draft")
    else:
        assert (body["status"], body["withdrawn_reason"]) == ("withdrawn", "Reorganisasi.")


@pytest.mark.parametrize(("actor", "name"), [(actor, name) for actor in ACTORS for name in SUCCESS])
def test_write_permission_matrix(
    actor: str,
    name: str,
    staff_cast: dict[str, Any],
    api_keys: dict[str, str],
    objects: Any,
    api_as: Any,
) -> None:
    who = api_keys[actor] if actor.startswith("key_") else staff_cast[actor]
    api = api_as(who)
    before = charter_snapshot()

    response = _call(name, api, objects)

    expected = EXPECTED[actor][name]
    if expected == ANON:
        assert response.status_code in (401, 403), response.content
    else:
        assert response.status_code == expected, response.content
    if response.status_code >= 400:
        problem(response)
        assert charter_snapshot() == before, "a refused write changed the database"
    else:
        _check_effect(name, response.json(), objects)


def test_a_published_charter_cannot_be_changed_through_the_api(
    published_charter: Charter, approver_a: Any, api_as: Any
) -> None:
    before = charter_snapshot()
    response = api_as(approver_a).patch(
        f"/api/v1/charters/{published_charter.pk}/", {"pledge": "Janji lain"}, format="json"
    )
    assert problem(response, 400)["code"] == "immutable"
    again = api_as(approver_a).post(f"/api/v1/charters/{published_charter.pk}/publish/")
    assert problem(again, 400)["code"] == "invalid_transition"
    assert charter_snapshot() == before


def test_bad_input_is_a_problem_with_field_errors(
    unit_a: Any, unit_b: Any, service_a: Any, editor_a: Any, editor_b: Any, api_as: Any
) -> None:
    from tests.registry import make_service

    foreign = make_service(unit_b.agency, unit_b, "Layanan B", acting_user=editor_b)
    api = api_as(editor_a)
    missing = api.post("/api/v1/charters/", {"unit": unit_a.pk}, "json")
    fields = problem_fields(problem(missing, 400))
    assert {"signatory_name", "signatory_title", "signed_on"} <= set(fields)
    valid = {"signatory_name": "A", "signatory_title": "B", "signed_on": "2026-01-01"}
    cap_alone = api.post(
        "/api/v1/charters/", {"unit": unit_a.pk, "compensation_cap": 5, **valid}, "json"
    )
    assert set(problem_fields(problem(cap_alone, 400))) == {"compensation_cap"}
    wrong_service = api.post(
        "/api/v1/charters/",
        {
            "unit": unit_a.pk,
            "services": [foreign.pk],
            "signatory_name": "A",
            "signatory_title": "B",
            "signed_on": "2026-01-01",
        },
        "json",
    )
    assert "services" in problem_fields(problem(wrong_service, 400))
    no_reason = api_as(editor_a).post("/api/v1/charters/999999/withdraw/", {}, "json")
    assert problem(no_reason, 404)["code"] == "not_found"
    assert not Charter.objects.exists()


def test_a_key_write_is_recorded_as_the_key(
    published_charter: Charter, api_keys: dict[str, str], api_as: Any
) -> None:
    response = api_as(api_keys["key_rw_a"]).post(
        f"/api/v1/charters/{published_charter.pk}/new-version/", format="json"
    )
    assert response.status_code == 201, response.content
    draft = Charter.objects.get(pk=response.json()["id"])
    record = draft.history.earliest()
    assert draft.created_by is None and record.history_user is None
    assert record.history_change_reason and "SIAK" in record.history_change_reason


def test_drafts_stay_private(
    draft_charter: Charter, staff_cast: dict[str, Any], api_as: Any
) -> None:
    assert api_as(None).get(f"/api/v1/charters/{draft_charter.pk}/").status_code == 404
    assert (
        api_as(staff_cast["editor_b"]).get(f"/api/v1/charters/{draft_charter.pk}/").status_code
        == 404
    )
    assert (
        api_as(staff_cast["editor_a"]).get(f"/api/v1/charters/{draft_charter.pk}/").status_code
        == 200
    )


def test_the_schema_documents_the_charter_writes(db: Any, tmp_path: Path) -> None:
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    out = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    paths = json.loads(out.read_text())["paths"]
    assert set(paths["/api/v1/charters/"]) - {"parameters"} == {"get", "post"}
    assert set(paths["/api/v1/charters/{id}/"]) - {"parameters"} == {"get", "patch"}
    for action in ("publish", "new-version", "withdraw"):
        assert set(paths[f"/api/v1/charters/{{id}}/{action}/"]) - {"parameters"} == {"post"}
    created = paths["/api/v1/charters/"]["post"]
    assert "201" in created["responses"]
    assert created["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CharterCreate"
    )
