"""The permission matrix of the write endpoints, and who sees drafts.

Rows: the cast (anonymous, editor_a, approver_a, admin_a, editor_b, ombudsman,
superuser). Columns: every write on agency A's objects. A refused write must
leave the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from services.models import (
    ComplaintChannel,
    CostItem,
    ProcedureStep,
    Requirement,
    Service,
    StandardVersion,
)
from tests.problems import problem
from tests.registry import make_draft


def snapshot() -> dict[str, Any]:
    """Every row the write endpoints could touch, and the audit trail."""
    models: list[Any] = [
        Service,
        StandardVersion,
        Requirement,
        ProcedureStep,
        CostItem,
        ComplaintChannel,
    ]
    state: dict[str, Any] = {m.__name__: list(m.objects.order_by("pk").values()) for m in models}
    state["history"] = [m.history.count() for m in models]
    return state


Objects = dict[str, Any]
Call = Callable[[APIClient, Objects], Any]


def create_service(api: APIClient, o: Objects) -> Any:
    return api.post(
        "/api/v1/services/",
        {"agency": "dinas-a", "unit": "unit-a", "name": "Surat Pindah", "category": "population"},
        format="json",
    )


def create_draft(api: APIClient, o: Objects) -> Any:
    return api.post(
        f"/api/v1/services/{o['published'].service_id}/versions/",
        {"change_summary": "Syarat baru", "requirements": [{"name": "KTP-el"}]},
        format="json",
    )


def update_draft(api: APIClient, o: Objects) -> Any:
    return api.patch(f"/api/v1/versions/{o['draft'].pk}/", {"product": "Akta baru"}, format="json")


def submit(api: APIClient, o: Objects) -> Any:
    return api.post(f"/api/v1/versions/{o['draft'].pk}/submit/", format="json")


def publish(api: APIClient, o: Objects) -> Any:
    return api.post(
        f"/api/v1/versions/{o['draft'].pk}/publish/",
        {"decree_number": "SK 7/2025", "decree_date": "2025-03-01"},
        format="json",
    )


def new_version(api: APIClient, o: Objects) -> Any:
    return api.post(f"/api/v1/versions/{o['published'].pk}/new-version/", format="json")


ACTIONS: dict[str, Call] = {
    "create_service": create_service,
    "create_draft": create_draft,
    "update_draft": update_draft,
    "submit": submit,
    "publish": publish,
    "new_version": new_version,
}
SUCCESS = {
    "create_service": 201,
    "create_draft": 201,
    "update_draft": 200,
    "submit": 200,
    "publish": 200,
    "new_version": 201,
}
EDITS = ("create_service", "create_draft", "update_draft", "submit", "new_version")
ANON = "401/403"


def _row(edit: int | str, publish_: int | str, create: int | str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(EDITS, edit)
    if create is not None:
        row["create_service"] = create
    row["publish"] = publish_
    return {k: SUCCESS[k] if v == "ok" else v for k, v in row.items()}


EXPECTED: dict[str, dict[str, Any]] = {
    "anonymous": _row(ANON, ANON),
    "editor_a": _row("ok", 403),
    "approver_a": _row("ok", "ok"),
    "admin_a": _row(403, 403),
    # An outsider: another agency's objects do not exist for them; creating in A is refused.
    "editor_b": _row(404, 404, create=403),
    "ombudsman": _row(403, 403),
    "superuser": _row("ok", "ok"),
}
MATRIX = [(role, name, EXPECTED[role][name]) for role in EXPECTED for name in ACTIONS]


def _check_effect(name: str, response: Any, o: Objects) -> None:
    body = response.json()
    if name == "create_service":
        service = Service.objects.get(pk=body["id"])
        assert (service.agency.slug, service.unit.slug, service.name) == (
            "dinas-a",
            "unit-a",
            "Surat Pindah",
        )
    elif name == "create_draft":
        assert body["status"] == "draft" and body["number"] == 2
        assert [r["name"] for r in body["requirements"]] == ["KTP-el"]
    elif name == "update_draft":
        assert StandardVersion.objects.get(pk=o["draft"].pk).product == "Akta baru"
    elif name == "submit":
        assert StandardVersion.objects.get(pk=o["draft"].pk).status == "awaiting_approval"
    elif name == "publish":
        version = StandardVersion.objects.get(pk=o["draft"].pk)
        assert (version.status, version.decree_number) == ("published", "SK 7/2025")
    elif name == "new_version":
        assert body["number"] == 2 and body["status"] == "draft"
        assert body["service"]["id"] == o["published"].service_id


@pytest.mark.parametrize(("role", "name", "expected"), MATRIX)
def test_write_permission_matrix(
    role: str,
    name: str,
    expected: Any,
    cast: dict[str, Any],
    published_a: Any,
    draft_a: Any,
    as_user: Any,
) -> None:
    objects = {"published": published_a, "draft": draft_a}
    api = as_user(cast[role])
    before = snapshot()

    response = ACTIONS[name](api, objects)

    if expected == ANON:
        assert response.status_code in (401, 403), response.content
    else:
        assert response.status_code == expected, response.content
    if response.status_code >= 400:
        problem(response)
        assert snapshot() == before, "a refused write changed the database"
    else:
        _check_effect(name, response, objects)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("anonymous", False),
        ("editor_a", True),
        ("approver_a", True),
        ("admin_a", True),
        ("editor_b", False),
        ("ombudsman", True),
        ("superuser", True),
    ],
)
def test_drafts_are_visible_only_to_staff_who_may_view_private_data(
    role: str, visible: bool, cast: dict[str, Any], published_a: Any, as_user: Any
) -> None:
    service_id = published_a.service_id
    draft = make_draft(published_a.service)  # v2, next to the published v1
    api = as_user(cast[role])

    detail = api.get(f"/api/v1/versions/{draft.pk}/")
    assert detail.status_code == (200 if visible else 404)
    if not visible:
        assert problem(detail)["code"] == "not_found"

    listed = api.get(f"/api/v1/services/{service_id}/versions/")
    assert listed.status_code == 200
    numbers = [v["number"] for v in listed.json()["results"]]
    assert numbers == ([2, 1] if visible else [1])

    # The published version stays public for everyone.
    assert api.get(f"/api/v1/versions/{published_a.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("role", "visible"),
    [("anonymous", False), ("editor_a", True), ("editor_b", False), ("ombudsman", True)],
)
def test_a_service_without_a_published_standard_is_private(
    role: str, visible: bool, cast: dict[str, Any], draft_a: Any, as_user: Any
) -> None:
    api = as_user(cast[role])
    response = api.get(f"/api/v1/services/{draft_a.service_id}/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert response.json()["current_version"] is None
    names = {s["name"] for s in api.get("/api/v1/services/").json()["results"]}
    assert ("Akta Kelahiran" in names) is visible


def test_an_outsider_cannot_learn_that_a_draft_exists(
    editor_b: Any, draft_a: Any, as_user: Any
) -> None:
    api = as_user(editor_b)
    missing = api.patch("/api/v1/versions/999999/", {"product": "x"}, format="json")
    hidden = api.patch(f"/api/v1/versions/{draft_a.pk}/", {"product": "x"}, format="json")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_a_unit_limited_editor_may_only_edit_their_unit(
    agency_a: Any, unit_a: Any, published_a: Any, as_user: Any
) -> None:
    from agencies.models import Role
    from tests.factories import MembershipFactory, UnitFactory, UserFactory

    other_unit = UnitFactory(agency=agency_a, slug="unit-lain")
    user = UserFactory(username="editor_unit")
    MembershipFactory(user=user, agency=agency_a, unit=other_unit, role=Role.EDITOR)
    api = as_user(user)
    before = snapshot()

    response = api.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")

    assert response.status_code == 404
    assert snapshot() == before


# --- The same matrix for machine clients (agency API keys) ------------------------------
KEY_EXPECTED: dict[str, dict[str, Any]] = {
    # A read-write key does what the agency's editors may, never more (no publishing).
    "key_read_write_a": _row("ok", 403),
    "key_read_a": _row(403, 403),
    "key_read_write_b": _row(404, 404, create=403),
    "key_ombudsman": _row(403, 403),
    "key_revoked": _row(401, 401),
    "key_expired": _row(401, 401),
}
KEY_MATRIX = [(key, name, KEY_EXPECTED[key][name]) for key in KEY_EXPECTED for name in ACTIONS]


@pytest.fixture
def api_keys(agency_a: Any, agency_b: Any, superuser: Any) -> dict[str, str]:
    """One secret per kind of key (created through the service layer, as a superuser)."""
    import datetime as dt

    from django.utils import timezone

    from agencies.api_keys import api_key_create, api_key_revoke
    from agencies.models import AgencyApiKey

    def make(agency: Any, scope: str) -> tuple[Any, str]:
        return api_key_create(
            agency=agency, name="system", scope=scope, expires_at=None, acting_user=superuser
        )

    secrets = {
        "key_read_write_a": make(agency_a, "read_write")[1],
        "key_read_a": make(agency_a, "read")[1],
        "key_read_write_b": make(agency_b, "read_write")[1],
        "key_ombudsman": make(None, "read")[1],
    }
    revoked, secrets["key_revoked"] = make(agency_a, "read_write")
    api_key_revoke(key=revoked, acting_user=superuser)
    expired, secrets["key_expired"] = make(agency_a, "read_write")
    AgencyApiKey.objects.filter(pk=expired.pk).update(
        expiry_date=timezone.now() - dt.timedelta(seconds=1)
    )
    return secrets


@pytest.mark.parametrize(("key", "name", "expected"), KEY_MATRIX)
def test_write_permission_matrix_for_api_keys(
    key: str,
    name: str,
    expected: Any,
    api_keys: dict[str, str],
    published_a: Any,
    draft_a: Any,
    api: APIClient,
) -> None:
    objects = {"published": published_a, "draft": draft_a}
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_keys[key]}")
    before = snapshot()

    response = ACTIONS[name](api, objects)

    assert response.status_code == expected, response.content
    if response.status_code >= 400:
        problem(response)
        assert snapshot() == before, "a refused write changed the database"
    else:
        _check_effect(name, response, objects)


@pytest.mark.parametrize(
    ("key", "visible"),
    [
        ("key_read_a", True),
        ("key_read_write_a", True),
        ("key_read_write_b", False),
        ("key_ombudsman", True),
    ],
)
def test_drafts_are_visible_to_keys_of_their_agency_and_the_ombudsman(
    key: str, visible: bool, api_keys: dict[str, str], draft_a: Any, api: APIClient
) -> None:
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_keys[key]}")
    assert api.get(f"/api/v1/versions/{draft_a.pk}/").status_code == (200 if visible else 404)


@pytest.mark.parametrize("key", ["key_revoked", "key_expired"])
def test_revoked_and_expired_keys_cannot_even_read(
    key: str, api_keys: dict[str, str], published_a: Any, api: APIClient
) -> None:
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_keys[key]}")
    response = api.get("/api/v1/services/")
    assert problem(response, 401)["code"] == "api_key_invalid"
