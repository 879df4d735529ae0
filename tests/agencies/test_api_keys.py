"""Agency API keys: stored hashed, shown once, audited, managed only by the agency's admins."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.api_keys import api_key_create, api_key_revoke
from agencies.models import AgencyApiKey, ApiKeyEvent, Membership, Role
from services.models import StandardVersion
from tests import factories
from tests.accounts.conftest import login_verified
from tests.problems import problem


def _key(agency: Any, user: Any, scope: str = "read_write") -> tuple[AgencyApiKey, str]:
    return api_key_create(
        agency=agency, name="SIAK", scope=scope, expires_at=None, acting_user=user
    )


def test_a_key_is_stored_hashed_with_a_visible_prefix(agency_a: Any, admin_a: Any) -> None:
    key, secret = _key(agency_a, admin_a)
    prefix, _dot, rest = secret.partition(".")
    assert key.prefix == prefix and len(rest) >= 32
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM agencies_agencyapikey")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert rest not in stored and secret not in stored
    assert key.hashed_key == "sha512$$" + hashlib.sha512(secret.encode()).hexdigest()


def test_creation_use_failure_and_revocation_are_audited(
    agency_a: Any, admin_a: Any, published_a: Any, api: APIClient
) -> None:
    key, secret = _key(agency_a, admin_a)
    assert key.last_used_at is None
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api.get("/api/v1/services/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None

    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.prefix}.not-the-secret")
    assert problem(api.get("/api/v1/services/"), 401)["code"] == "api_key_invalid"
    api_key_revoke(key=key, acting_user=admin_a)
    api_key_revoke(key=key, acting_user=admin_a)  # twice: one event
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api.get("/api/v1/services/").status_code == 401

    events = list(ApiKeyEvent.objects.filter(key=key).order_by("pk").values_list("kind", "reason"))
    assert events == [
        ("created", ""),
        ("refused", "wrong_secret"),
        ("revoked", ""),
        ("refused", "revoked"),
    ]
    assert ApiKeyEvent.objects.get(key=key, kind="created").actor == admin_a


def test_a_key_write_is_recorded_as_the_key_not_as_a_person(
    agency_a: Any, admin_a: Any, published_a: Any, api: APIClient
) -> None:
    key, secret = _key(agency_a, admin_a)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = api.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")
    assert response.status_code == 201, response.content
    draft = StandardVersion.objects.get(pk=response.json()["id"])
    assert draft.created_by is None
    record = draft.history.latest()
    assert record.history_user is None
    assert record.history_change_reason == key.label


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),  # to the login page
        ("admin_a", 200),
        ("superuser", 200),
        ("editor_a", 403),  # staff of the agency, not its admin
        ("approver_a", 403),
        ("editor_b", 404),  # an outsider: the agency's keys do not exist for them
        ("admin_b", 404),
        ("ombudsman", 403),  # reads every agency, manages none
    ],
)
def test_who_may_manage_an_agencys_keys(
    who: str, expected: int, cast: dict[str, Any], agency_a: Any, agency_b: Any, client: Client
) -> None:
    users = dict(cast)
    users["admin_b"] = factories.UserFactory(username="admin_b")
    Membership.objects.create(user=users["admin_b"], agency=agency_b, role=Role.AGENCY_ADMIN)
    key, _secret = _key(agency_a, cast["admin_a"])
    if users[who] is not None:
        login_verified(client, users[who])
    url = reverse("agency_admin:api_keys", kwargs={"agency_slug": agency_a.slug})
    assert client.get(url).status_code == expected
    created = client.post(url, {"name": "Sneaky", "scope": "read_write"})
    assert created.status_code == (200 if expected == 200 else expected)
    revoke = reverse(
        "agency_admin:api_key_revoke", kwargs={"agency_slug": agency_a.slug, "prefix": key.prefix}
    )
    assert client.post(revoke).status_code == (302 if expected == 200 else expected)
    key.refresh_from_db()
    assert key.revoked == (expected == 200)
    assert AgencyApiKey.objects.filter(name="Sneaky").exists() == (expected == 200)


def test_the_key_is_shown_once(agency_a: Any, admin_a: Any, client: Client) -> None:
    login_verified(client, admin_a)
    url = reverse("agency_admin:api_keys", kwargs={"agency_slug": agency_a.slug})
    response = client.post(url, {"name": "Aplikasi loket", "scope": "read"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = AgencyApiKey.objects.get(name="Aplikasi loket")
    page = response.content.decode()
    start = page.index(f'value="{key.prefix}.') + len('value="')
    secret = page[start : page.index('"', start)]
    assert key.is_valid(secret) and key.scope == "read" and key.agency == agency_a
    later = client.get(url).content.decode()
    assert key.prefix in later and secret not in later


def test_a_bad_key_form_shows_field_errors(agency_a: Any, admin_a: Any, client: Client) -> None:
    login_verified(client, admin_a)
    url = reverse("agency_admin:api_keys", kwargs={"agency_slug": agency_a.slug})
    response = client.post(url, {"name": "a\x00b", "scope": "root", "expires_on": "2001-01-01"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"name", "scope"}
    assert not AgencyApiKey.objects.exists()
    past = client.post(url, {"name": "Lama", "scope": "read", "expires_on": "2001-01-01"})
    assert past.status_code == 400 and "expires_on" in past.context["form"].errors


@pytest.mark.parametrize(
    ("who", "expected"),
    [("ombudsman", 200), ("superuser", 200), ("admin_a", 404), ("editor_a", 404)],
)
def test_only_the_ombudsman_manages_its_cross_agency_key(
    who: str, expected: int, cast: dict[str, Any], client: Client
) -> None:
    login_verified(client, cast[who])
    url = reverse("api_keys:ombudsman")
    assert client.get(url).status_code == expected
    response = client.post(url, {"name": "Dasbor ORI", "scope": "read_write"})
    if expected == 200:
        # The ombudsman's key can only read: "read and write" is not even offered.
        assert response.status_code == 400
        response = client.post(url, {"name": "Dasbor ORI", "scope": "read"})
        assert response.status_code == 200
        key = AgencyApiKey.objects.get(name="Dasbor ORI")
        assert key.agency is None and key.scope == "read"
    else:
        assert response.status_code == 404
        assert not AgencyApiKey.objects.exists()
