"""The second factor guards the API like the staff area and the admin (one middleware)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from services.models import StandardVersion
from tests.accounts.conftest import login_verified
from tests.problems import problem


@pytest.mark.parametrize("who", ["superuser", "ombudsman", "admin_a"])
def test_a_password_only_privileged_session_reaches_no_api_operation(
    who: str, cast: dict[str, Any], draft_a: Any, api: APIClient
) -> None:
    api.force_login(cast[who])  # password only: no TOTP code confirmed in this session
    read = api.get(f"/api/v1/versions/{draft_a.pk}/")
    assert problem(read, 403)["code"] == "second_factor_required"
    listed = api.get("/api/v1/services/")
    assert problem(listed, 403)["code"] == "second_factor_required"
    edit = api.patch(f"/api/v1/versions/{draft_a.pk}/", {"product": "Diubah"}, format="json")
    assert problem(edit, 403)["code"] == "second_factor_required"
    assert StandardVersion.objects.get(pk=draft_a.pk).product != "Diubah"
    # The API's description stays readable.
    assert api.get("/api/v1/schema/", {"format": "json"}).status_code == 200


def test_the_same_session_works_once_the_code_is_confirmed(
    superuser: Any, draft_a: Any, api: APIClient
) -> None:
    login_verified(api, superuser)
    edit = api.patch(f"/api/v1/versions/{draft_a.pk}/", {"product": "Diubah"}, format="json")
    assert edit.status_code == 200, edit.content
    assert StandardVersion.objects.get(pk=draft_a.pk).product == "Diubah"


def test_roles_without_two_factor_use_their_session(
    editor_a: Any, draft_a: Any, api: APIClient
) -> None:
    api.force_login(editor_a)
    assert api.get(f"/api/v1/versions/{draft_a.pk}/").status_code == 200
