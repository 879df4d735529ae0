from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_tests_run_on_postgresql(db):
    assert connection.vendor == "postgresql", "make test must run the suite on PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_healthz_reports_database_and_broker(client, db):
    from oversight.sweep import sweep

    sweep()  # a recent successful sweep, or the sweeper check reports "degraded"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok", "sweeper": "ok"}


def test_healthz_answers_503_when_the_broker_is_down(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def test_home_page_is_indonesian_by_default_and_english_on_request(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="id"' in response.content.decode()
    english = client.get("/en/")
    assert english.status_code == 200
    assert 'lang="en"' in english.content.decode()


def test_language_switcher_sets_the_language(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert 'lang="en"' in client.get(response["Location"]).content.decode()


def test_language_switcher_requires_csrf(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 403


def test_unknown_page_is_a_real_404_in_both_languages(client, db):
    response = client.get("/tidak-ada/")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.content.decode()
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@override_settings(DEBUG=False)
def test_server_error_page_is_rendered(client, db):
    from django.test import RequestFactory
    from django.utils import translation

    from core.views import server_error

    with translation.override("id"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.content.decode()


def test_settings_refuse_to_start_without_secret_key_outside_debug():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "MAKLUMAT_TESTING"}}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_embedded_broker_keeps_its_files_under_var(tmp_path):
    """kombu's filesystem transport writes its exchange tables to ./control unless told:
    under `make run` every broker file lives in the var directory, none in the repository."""
    env = dict(
        os.environ, CELERY_BROKER_URL="filesystem://localhost//", MAKLUMAT_VAR_DIR=str(tmp_path)
    )
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(sorted(settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    options = dict(eval(result.stdout))
    for name in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[name].startswith(str(tmp_path)), name


def test_deploy_checks_pass_with_production_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MAKLUMAT_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 20 + "-production-like-secret-key-1234567890abcdef",
        ALLOWED_HOSTS="maklumat.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_file_is_valid():
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0
    ):
        pytest.skip("the `docker compose` client is not installed on this machine")
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SECRET_KEY": "compose-check", "POSTGRES_PASSWORD": "compose-check"},
    )
    assert result.returncode == 0, result.stderr


def test_static_assets_are_self_hosted(client, db):
    html = client.get("/").content.decode()
    for marker in ("cdn.", "jsdelivr", "unpkg", "googleapis", "cdnjs"):
        assert marker not in html
    docs = client.get("/api/v1/docs/").content.decode()
    assert "jsdelivr" not in docs and "/static/" in docs
