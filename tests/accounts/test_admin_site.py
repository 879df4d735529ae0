"""The Django admin sits behind the project's login and, for privileged users, two-factor."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.accounts.conftest import confirmed_device_for, login_verified


def _target(response: Any) -> tuple[str, str]:
    parts = urlsplit(response["Location"])
    return parts.path, parse_qs(parts.query).get("next", [""])[0]


def test_anonymous_visitors_go_to_the_projects_login(client: Any) -> None:
    response = client.get("/admin/agencies/agency/")
    assert response.status_code == 302
    login_path, _ = _target(response)
    follow = client.get(response["Location"])
    assert follow.status_code == 302  # the admin's login hands over to ours
    path, next_url = _target(follow)
    assert path == reverse("accounts:login") and next_url == "/admin/agencies/agency/"
    assert login_path == reverse("admin:login")


def test_a_superuser_without_a_code_this_session_is_sent_to_the_code_step(
    client: Any, superuser: Any
) -> None:
    confirmed_device_for(superuser)
    client.force_login(superuser)  # password only
    response = client.get("/admin/agencies/agency/", follow=True)
    path = response.redirect_chain[-1][0]
    assert urlsplit(path).path == reverse("accounts:login_code")
    assert parse_qs(urlsplit(path).query)["next"] == ["/admin/agencies/agency/"]
    assert b'id="site-name"' not in response.content  # not an admin page
    assert b'id="site-name"' in _admin_index(client, superuser).content  # (the marker is real)


def _admin_index(client: Any, superuser: Any) -> Any:
    login_verified(client, superuser)
    return client.get("/admin/")


def test_a_superuser_without_a_device_is_sent_to_enrol(client: Any, superuser: Any) -> None:
    client.force_login(superuser)
    response = client.get("/admin/", follow=True)
    assert urlsplit(response.redirect_chain[-1][0]).path == reverse("accounts:otp_setup")


def test_a_verified_superuser_uses_the_admin(client: Any, superuser: Any) -> None:
    login_verified(client, superuser)
    response = client.get("/admin/agencies/agency/")
    assert response.status_code == 200
    # And the admin's login page no longer applies: it sends them on.
    assert client.get("/admin/login/?next=/admin/").status_code == 302


def test_a_signed_in_non_staff_user_is_refused(client: Any, editor_a: Any) -> None:
    client.force_login(editor_a)
    assert not editor_a.is_staff
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_the_next_link_never_leaves_the_site(client: Any, superuser: Any, target: str) -> None:
    login_verified(client, superuser)
    response = client.get("/admin/login/", {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("path", ["/staff/", "/staff/deliveries/", "/en/staff/deliveries/"])
def test_every_staff_page_asks_privileged_users_for_two_factor(
    client: Any, admin_a: Any, editor_a: Any, path: str
) -> None:
    """Whatever view a staff path leads to: a password alone is not enough for an agency
    admin, while an editor (not privileged) goes straight in."""
    client.force_login(admin_a)
    response = client.get(path)
    assert response.status_code == 302
    steps = {
        reverse(name).removeprefix("/en") for name in ("accounts:otp_setup", "accounts:login_code")
    }
    assert urlsplit(response["Location"]).path.removeprefix("/en") in steps
    client.force_login(editor_a)
    assert client.get(path).status_code == 200
