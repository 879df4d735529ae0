from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.conftest import en
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"  # the factories' password


def _logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_login_page_renders(client, db):
    response = client.get(en("accounts:login"))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_login_with_username(client, editor_a):
    response = client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/en/staff/"
    assert _logged_in_user_id(client) == str(editor_a.pk)


def test_login_with_email_is_case_insensitive(client, editor_a):
    response = client.post(
        en("accounts:login"), {"username": "Editor_A@Example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert _logged_in_user_id(client) == str(editor_a.pk)


def test_login_follows_a_local_next_but_not_an_external_one(client, editor_a):
    response = client.post(
        en("accounts:login"),
        {"username": "editor_a", "password": PASSWORD, "next": "/en/staff/?tab=1"},
    )
    assert response["Location"] == "/en/staff/?tab=1"
    client.logout()
    response = client.post(
        en("accounts:login"),
        {"username": "editor_a", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/en/staff/"


def test_wrong_password_is_a_field_error(client, editor_a):
    response = client.post(en("accounts:login"), {"username": "editor_a", "password": "nope"})
    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    assert "do not match an active account" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert _logged_in_user_id(client) is None


def test_inactive_user_cannot_log_in(client, db):
    UserFactory(username="gone", is_active=False)
    response = client.post(en("accounts:login"), {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200
    assert _logged_in_user_id(client) is None


def test_missing_fields_are_field_errors(client, db):
    response = client.post(en("accounts:login"), {})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"username", "password"}


# Throttling (per account, per client address): tests/accounts/test_throttle.py.
def test_successful_logins_do_not_count_towards_the_limit(client, editor_a):
    for _ in range(12):
        response = client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
        assert response.status_code == 302
        client.logout()


def test_login_requires_csrf(editor_a):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("language_prefix", ["", "/en"])
def test_login_page_in_both_languages(client, db, language_prefix):
    response = client.get(f"{language_prefix}/accounts/login/")
    assert response.status_code == 200
