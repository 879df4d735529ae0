"""PostgreSQL stopped while the app runs: pages answer 503 (a page, or problem JSON in
the API, with Retry-After), never a stack trace, and come back without restarting the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from core.views import server_error
from tests.ops.processes import ThrowawayPostgres, start_web


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_error_handler_turns_a_lost_database_into_503(error: type[Exception]):
    for path, kind in (("/", "text/html"), ("/api/v1/agencies/", "application/problem+json")):
        try:
            raise error("connection to server at 127.0.0.1 failed: Connection refused")
        except error:
            response = server_error(RequestFactory().get(path))
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert response["Content-Type"].startswith(kind)
        assert b"Connection refused" not in response.content


def test_any_other_error_stays_a_500():
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and not response.has_header("Retry-After")


def _no_trace(body: str) -> None:
    assert "Traceback" not in body and "OperationalError" not in body
    assert "psycopg" not in body and "127.0.0.1" not in body


@pytest.mark.worker
def test_postgresql_restarted_under_a_running_app(transactional_db: Any, tmp_path: Path):
    pg = ThrowawayPostgres()
    pg.start()
    web = None
    try:
        url = pg.copy_of_test_database()
        web = start_web({"DATABASE_URL": url, "CONN_MAX_AGE": "600"}, tmp_path / "web.log")
        for _ in range(4):  # both gunicorn workers hold a connection now
            assert web.get("/")[0] == 200
            assert web.get("/api/v1/agencies/")[0] == 200

        pg.stop()
        status, headers, body = web.get("/")
        assert status == 503, body[:500]
        assert headers["Retry-After"] == "30"
        assert "Sementara tidak tersedia" in body  # Indonesian first
        _no_trace(body)
        status, headers, body = web.get("/en/")
        assert status == 503 and "Temporarily unavailable" in body
        status, headers, body = web.get("/api/v1/agencies/", **{"Accept-Language": "en"})
        assert status == 503 and headers["Content-Type"] == "application/problem+json"
        assert headers["Retry-After"] == "30"
        problem = json.loads(body)
        assert problem["status"] == 503 and problem["code"] == "database_unavailable"
        _no_trace(body)
        assert web.get("/healthz")[0] == 503

        pg.start()  # the same app processes, never restarted
        for _ in range(6):
            status, _headers, body = web.get("/")
            assert status == 200, body[:500]
            assert web.get("/api/v1/agencies/")[0] == 200
        assert web.get("/healthz")[0] == 200
        assert web.proc.poll() is None
    finally:
        if web is not None:
            web.stop()
        pg.remove()
