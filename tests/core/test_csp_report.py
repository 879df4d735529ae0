"""The endpoint browsers send Content-Security-Policy violation reports to."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

URL = "/csp-report/"

LEGACY_REPORT = {
    "csp-report": {
        "document-uri": "https://maklumat.example.org/agencies/dinas-a/?q=secret",
        "referrer": "",
        "violated-directive": "style-src-elem",
        "effective-directive": "style-src-elem",
        "original-policy": "default-src 'self'; report-uri /csp-report/",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 12,
        "source-file": "https://maklumat.example.org/agencies/dinas-a/",
        "status-code": 200,
        "script-sample": "",
    }
}

REPORTING_API_BATCH = [
    {
        "age": 10,
        "type": "csp-violation",
        "url": "https://maklumat.example.org/api/v1/docs/",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://maklumat.example.org/api/v1/docs/",
            "effectiveDirective": "worker-src",
            "blockedURL": "blob",
            "disposition": "enforce",
            "originalPolicy": "default-src 'self'",
            "statusCode": 200,
            "sourceFile": "https://maklumat.example.org/static/redoc.standalone.js",
            "lineNumber": 2,
            "columnNumber": 100,
        },
    },
    {"age": 3, "type": "deprecation", "url": "https://x.example/", "body": {"id": "x"}},
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _post(body: bytes | str, content_type: str = "application/csp-report", **extra: Any):
    return Client().post(URL, data=body, content_type=content_type, **extra)


def test_a_browser_report_is_logged_in_one_line_and_answered_204(caplog):
    with caplog.at_level(logging.WARNING, logger="maklumat.csp"):
        response = _post(json.dumps(LEGACY_REPORT))
    assert response.status_code == 204
    assert response.content == b""
    (record,) = [r for r in caplog.records if r.name == "maklumat.csp"]
    line = record.getMessage()
    assert "\n" not in line
    assert "directive=style-src-elem" in line
    assert "blocked=inline" in line
    assert "document=https://maklumat.example.org/agencies/dinas-a/" in line
    assert "secret" not in line  # query strings stay out of the log


def test_a_reporting_api_batch_logs_each_csp_violation(caplog):
    with caplog.at_level(logging.WARNING, logger="maklumat.csp"):
        response = _post(json.dumps(REPORTING_API_BATCH), "application/reports+json")
    assert response.status_code == 204
    lines = [r.getMessage() for r in caplog.records if r.name == "maklumat.csp"]
    assert len(lines) == 1  # the deprecation report is not ours to log
    assert "directive=worker-src" in lines[0] and "blocked=blob" in lines[0]
    assert "source=https://maklumat.example.org/static/redoc.standalone.js:2" in lines[0]


def test_an_expected_refusal_is_kept_out_of_the_warnings(caplog):
    # ReDoc's sidebar asks for Redocly's logo on every view of /api/v1/docs/; refusing it is right.
    report = {
        "csp-report": {
            **LEGACY_REPORT["csp-report"],
            "effective-directive": "img-src",
            "blocked-uri": "https://cdn.redoc.ly/redoc/logo-mini.svg",
        }
    }
    with caplog.at_level(logging.DEBUG, logger="maklumat.csp"):
        assert _post(json.dumps(report)).status_code == 204
        assert _post(json.dumps(LEGACY_REPORT)).status_code == 204
    levels = [r.levelno for r in caplog.records if r.name == "maklumat.csp"]
    assert levels == [logging.DEBUG, logging.WARNING]


def test_the_report_endpoint_needs_no_csrf_token():
    response = Client(enforce_csrf_checks=True).post(
        URL, data=json.dumps(LEGACY_REPORT), content_type="application/csp-report"
    )
    assert response.status_code == 204


def test_control_characters_cannot_forge_log_lines(caplog):
    report = {"csp-report": {**LEGACY_REPORT["csp-report"], "blocked-uri": "x\nFAKE ERROR y"}}
    with caplog.at_level(logging.WARNING, logger="maklumat.csp"):
        assert _post(json.dumps(report)).status_code == 204
    (record,) = [r for r in caplog.records if r.name == "maklumat.csp"]
    assert "\n" not in record.getMessage()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/csp-report"),
        (b"\xff\xfe\x00", "application/csp-report"),
        (b"[]", "application/csp-report"),
        (b'{"csp-report": "text"}', "application/csp-report"),
        (b'{"other": {}}', "application/csp-report"),
        (b'{"csp-report": {}}', "application/reports+json"),
        (b"[1, 2]", "application/reports+json"),
        (b'[{"type": "csp-violation", "body": []}]', "application/reports+json"),
        (b"   ", "application/csp-report"),
        (b"12", "application/json"),
    ],
)
def test_junk_is_a_400(body, content_type, caplog):
    with caplog.at_level(logging.WARNING, logger="maklumat.csp"):
        response = _post(body, content_type)
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.name == "maklumat.csp"]


def test_a_form_post_is_refused_as_the_wrong_type():
    response = Client().post(URL, data={"csp-report": "x"})
    assert response.status_code == 415


def test_an_oversized_body_is_refused_unread():
    padding = "a" * 70_000
    report = {"csp-report": {**LEGACY_REPORT["csp-report"], "script-sample": padding}}
    response = _post(json.dumps(report))
    assert response.status_code == 413


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_refused(method):
    response = getattr(Client(), method)(URL)
    assert response.status_code == 405


def test_reports_are_rate_limited_per_address(settings):
    from core.csp import REPORT_RATE

    limit = int(REPORT_RATE.split("/")[0])
    body = json.dumps(LEGACY_REPORT)
    statuses = [_post(body).status_code for _ in range(limit)]
    assert statuses == [204] * limit
    assert _post(body).status_code == 429
    # Another address has its own allowance.
    assert _post(body, REMOTE_ADDR="10.9.8.7").status_code == 204
