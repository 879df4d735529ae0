"""The OpenAPI schema of the API, and authentication edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

ENDPOINTS = {
    "/api/agencies/": {"get"},
    "/api/agencies/{slug}/": {"get"},
    "/api/units/": {"get"},
    "/api/units/{id}/": {"get"},
    "/api/services/": {"get", "post"},
    "/api/services/{id}/": {"get"},
    "/api/services/{id}/versions/": {"get", "post"},
    "/api/versions/{id}/": {"get", "put", "patch"},
    "/api/versions/{id}/submit/": {"post"},
    "/api/versions/{id}/publish/": {"post"},
    "/api/versions/{id}/new-version/": {"post"},
    "/api/charters/": {"get"},
    "/api/charters/{id}/": {"get"},
}


def test_schema_generates_without_warnings_and_validates(db: Any, tmp_path: Path) -> None:
    GENERATOR_STATS.reset()
    out = tmp_path / "schema.json"
    # --fail-on-warn raises on any warning or error; --validate checks it against OpenAPI 3.
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    schema = json.loads(out.read_text())
    paths = schema["paths"]
    for path, methods in ENDPOINTS.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path

    services = {p["name"] for p in paths["/api/services/"]["get"]["parameters"]}
    assert {"agency", "category", "channel", "free", "max_processing_time"} <= services
    created = paths["/api/services/{id}/versions/"]["post"]
    assert "201" in created["responses"]
    body = created["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/VersionWrite")
    components = schema["components"]["schemas"]
    # Each choice set has one name, whatever the fields that use it.
    assert components["TimeUnitEnum"]["enum"] == [
        "working_days",
        "calendar_days",
        "hours",
        "minutes",
    ]
    assert {"VersionStatusEnum", "CharterStatusEnum"} <= set(components)
    version = components["VersionDetail"]["properties"]
    assert {"requirements", "steps", "cost_items", "complaint_channels", "completeness"} <= set(
        version
    )


def test_schema_endpoint_serves_the_api(api: APIClient, db: Any) -> None:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert set(ENDPOINTS) <= set(json.loads(response.content)["paths"])


def test_a_token_header_never_crashes(api: APIClient, published_a: Any) -> None:
    # An unknown token is refused with an error body, never a 500.
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    response = api.get("/api/services/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "authentication_failed"
    post = api.post(f"/api/versions/{published_a.pk}/new-version/", format="json")
    assert post.status_code in (401, 403)


def test_a_valid_token_authenticates(api: APIClient, editor_a: Any, published_a: Any) -> None:
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=editor_a)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(f"/api/versions/{published_a.pk}/new-version/", format="json")
    assert response.status_code == 201, response.content
