"""Content-Security-Policy, Permissions-Policy, cross-origin isolation headers and the
private-caching rule, read from real responses of every page type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from agencies.api_keys import api_key_create
from core.views import REDOC_STYLE_HASHES
from tests.accounts.conftest import login_verified
from tests.core.csp_checks import (
    inline_code,
    nonces,
    page_type_urls,
    parse_policy,
    policy_problems,
)

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Page fragments are cached by row id and rate limits by address: both repeat between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(national: Any, editor_a: Any, agency_a: Any, unit_a: Any) -> dict[str, str]:
    return page_type_urls(editor=editor_a, agency=agency_a, unit=unit_a)


def _public_pages(world: dict[str, str]) -> dict[str, tuple[str, int]]:
    return {
        "home": ("/", 200),
        "home (en)": ("/en/", 200),
        "search": ("/search/?q=ktp", 200),
        "service": ("/agencies/disdukcapil-kota-bandung/services/ktp-el/", 200),
        "agency": ("/agencies/disdukcapil-kota-bandung/", 200),
        "unit": ("/agencies/disdukcapil-kota-bandung/units/kantor-dinas/", 200),
        "league": ("/agencies/", 200),
        "charter": (world["charter"], 200),
        "charter poster": (world["poster"], 200),
        "standard poster": (world["standard poster"], 200),
        "consultations": ("/consultation/", 200),
        "consultation": (world["consultation"], 200),
        "tracking form": ("/track/", 200),
        "tracking page": (world["track"], 200),
        "login": ("/accounts/login/", 200),
        "404": ("/tidak-ada-halaman-ini/", 404),
        "healthz": ("/healthz", 200),
        "API list": ("/api/v1/services/", 200),
        "API docs": ("/api/v1/docs/", 200),
    }


# What the API docs page alone adds: ReDoc's injected styles and its inline icons.
DOCS_ALLOWED = {"style-src": REDOC_STYLE_HASHES, "img-src": ["data:"]}


def _check(response: Any, *, allowed: dict[str, list[str]] | None = None) -> list[str]:
    problems = policy_problems(response.get("Content-Security-Policy", ""), allowed=allowed)
    permissions = response.get("Permissions-Policy", "")
    problems += [
        f"Permissions-Policy does not deny {feature}"
        for feature in DENIED_FEATURES
        if f"{feature}=()" not in permissions
    ]
    if response.get("Cross-Origin-Resource-Policy") != "same-origin":
        problems.append(f"CORP is {response.get('Cross-Origin-Resource-Policy')!r}")
    if response.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append(f"COOP is {response.get('Cross-Origin-Opener-Policy')!r}")
    if response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        problems += inline_code(html)
        header_nonces = {
            source[len("'nonce-") : -1]
            for sources in parse_policy(response["Content-Security-Policy"]).values()
            for source in sources
            if source.startswith("'nonce-")
        }
        if not nonces(html) <= header_nonces:
            problems.append(f"page nonces {nonces(html)} not in the header's {header_nonces}")
    return problems


def _private(response: Any) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def test_every_public_page_type_is_served_under_the_strict_policy(client, world):
    problems: dict[str, list[str]] = {}
    for name, (url, status) in _public_pages(world).items():
        response = client.get(url)
        assert response.status_code == status, (name, url, response.status_code)
        found = _check(response, allowed=DOCS_ALLOWED if name == "API docs" else None)
        if found:
            problems[f"{name} ({url})"] = found
    assert not problems, problems


def test_public_pages_keep_their_own_caching(client, world):
    for url in ("/", "/search/?q=ktp", "/agencies/disdukcapil-kota-bandung/", "/api/v1/services/"):
        response = client.get(url)
        assert not _private(response), (url, response.get("Cache-Control"))
    poster = client.get(world["poster"])
    assert "public" in poster["Cache-Control"] and "max-age=86400" in poster["Cache-Control"]
    assert not _private(poster)


def test_staff_pages_are_strict_and_never_stored(client, world, editor_a, superuser):
    staff_pages = {
        "dashboard": "/staff/",
        "dashboard (en)": "/en/staff/",
        "staff form": world["draft edit"],
        "new service form": "/staff/standards/services/new/",
    }
    client.force_login(editor_a)
    problems: dict[str, list[str]] = {}
    for name, url in staff_pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        found = _check(response)
        if not _private(response):
            found.append(f"Cache-Control is {response.get('Cache-Control')!r}")
        if found:
            problems[name] = found
    admin = Client()
    login_verified(admin, superuser)
    admin_pages = {
        "admin index": "/admin/",
        "admin list": "/admin/services/service/",
        "admin form": world["service admin"],
    }
    for name, url in admin_pages.items():
        response = admin.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        found = _check(response)
        if not _private(response):
            found.append(f"Cache-Control is {response.get('Cache-Control')!r}")
        if found:
            problems[name] = found
    assert not problems, problems


@pytest.mark.parametrize(
    "url", ["/staff/", "/en/staff/", "/admin/", "/admin/login/", "/accounts/login/"]
)
def test_staff_and_account_answers_are_private_even_before_login(client, db, url):
    # A redirect to the login page, or the login form itself with its CSRF token.
    response = client.get(url)
    assert response.status_code in (200, 302)
    assert _private(response), response.get("Cache-Control")


def test_authenticated_api_answers_are_private(client, world, editor_a):
    anonymous = client.get("/api/v1/services/")
    assert anonymous.status_code == 200 and not _private(anonymous)
    client.force_login(editor_a)
    session = client.get("/api/v1/services/")
    assert session.status_code == 200 and _private(session), session.get("Cache-Control")
    _key, secret = api_key_create(
        agency=editor_a.memberships.get().agency,
        name="SIAK",
        scope="read",
        expires_at=None,
        acting_user=User.objects.create(username="root", is_superuser=True),
    )
    by_key = Client().get("/api/v1/services/", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert by_key.status_code == 200 and _private(by_key), by_key.get("Cache-Control")


def test_the_api_answers_json_not_the_browsable_html(client, world):
    # DRF's browsable pages carry inline styles; the human-readable API is /api/v1/docs/.
    response = client.get("/api/v1/services/", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_the_api_docs_page_loads_nothing_from_elsewhere_and_alone_relaxes_the_policy(client, world):
    docs = client.get("/api/v1/docs/")
    html = docs.content.decode()
    assert "fonts.googleapis.com" not in html and "https://" not in html
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html
    policy = parse_policy(docs["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", *REDOC_STYLE_HASHES]
    assert policy["img-src"] == ["'self'", "data:"]
    home = parse_policy(client.get("/")["Content-Security-Policy"])
    assert home["style-src"] == ["'self'"] and home["img-src"] == ["'self'"]


def test_static_files_carry_the_resource_policy(client, db):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    response.close()
