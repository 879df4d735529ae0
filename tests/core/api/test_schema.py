"""The OpenAPI schema of the API, and authentication edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from tests.problems import problem

ENDPOINTS = {
    "/api/v1/agencies/": {"get"},
    "/api/v1/agencies/{slug}/": {"get"},
    "/api/v1/units/": {"get"},
    "/api/v1/units/{id}/": {"get"},
    "/api/v1/services/": {"get", "post"},
    "/api/v1/services/{id}/": {"get"},
    "/api/v1/services/{id}/versions/": {"get", "post"},
    "/api/v1/versions/{id}/": {"get", "put", "patch"},
    "/api/v1/versions/{id}/submit/": {"post"},
    "/api/v1/versions/{id}/publish/": {"post"},
    "/api/v1/versions/{id}/new-version/": {"post"},
    "/api/v1/charters/": {"get", "post"},
    "/api/v1/charters/{id}/": {"get", "patch"},
    "/api/v1/charters/{id}/publish/": {"post"},
    "/api/v1/charters/{id}/new-version/": {"post"},
    "/api/v1/charters/{id}/withdraw/": {"post"},
    "/api/v1/locations/": {"get"},
    "/api/v1/locations/{slug}/": {"get"},
    "/api/v1/life-events/": {"get"},
    "/api/v1/life-events/{slug}/": {"get"},
    "/api/v1/findings/": {"get"},
    "/api/v1/findings/{id}/": {"get"},
    "/api/v1/assessments/": {"get"},
    "/api/v1/assessments/{id}/": {"get"},
    "/api/v1/services/{id}/complaints/": {"get"},
    "/api/v1/units/{id}/complaints/": {"get"},
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

    services = {p["name"] for p in paths["/api/v1/services/"]["get"]["parameters"]}
    assert {"agency", "category", "channel", "free", "max_processing_time"} <= services
    created = paths["/api/v1/services/{id}/versions/"]["post"]
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
    response = api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert set(ENDPOINTS) <= set(json.loads(response.content)["paths"])


@pytest.mark.parametrize(
    "path", ["/api/services/", "/api/agencies/", "/api/schema/", "/api/docs/", "/api/"]
)
def test_the_unversioned_paths_are_gone(api: APIClient, db: Any, path: str) -> None:
    # Everything moved under /api/v1/ before any client existed: nothing answers at the old
    # paths, so no client can come to depend on them.
    assert api.get(path).status_code == 404


def test_every_operation_is_under_v1(api: APIClient, db: Any) -> None:
    paths = json.loads(api.get("/api/v1/schema/", {"format": "json"}).content)["paths"]
    assert paths and all(path.startswith("/api/v1/") for path in paths)


@pytest.mark.parametrize(
    "header",
    ["Token 0123456789abcdef", "Bearer abc", "Api-Key", "Api-Key nodot", "Api-Key abcdefgh.wrong"],
)
def test_other_or_broken_credentials_are_refused_with_401(
    api: APIClient, published_a: Any, header: str
) -> None:
    # DRF's per-person tokens are gone: any credential but a valid API key is refused
    # (never silently read as anonymous), with the scheme to use, and never a 500.
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/services/")
    assert problem(response, 401)["code"] in {"unsupported_authorization", "api_key_invalid"}
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'
    post = api.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")
    assert post.status_code == 401


def test_an_anonymous_write_gets_401_with_the_scheme(api: APIClient, published_a: Any) -> None:
    response = api.post(f"/api/v1/versions/{published_a.pk}/new-version/", format="json")
    assert problem(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'


@pytest.mark.parametrize(
    "first", ["core.api", "agencies.api_auth", "core.api_parsers", "oversight.tasks"]
)
def test_the_api_settings_load_whatever_module_comes_first(first: str) -> None:
    """A worker imports modules in another order than the web server: DRF's settings must
    resolve (no import cycle through rest_framework.views) whichever comes first."""
    import subprocess
    import sys

    code = (
        "import django; django.setup(); import importlib; "
        f"importlib.import_module({first!r}); "
        "from rest_framework.settings import api_settings as s; "
        "s.DEFAULT_PARSER_CLASSES; s.DEFAULT_AUTHENTICATION_CLASSES; s.DEFAULT_PAGINATION_CLASS"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
