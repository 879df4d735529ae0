"""`make run`'s embedded default, end to end: the web server and a Celery worker as separate
processes on SQLite, kombu's filesystem broker and the shared file cache (no PostgreSQL, no
Redis), an editor logging in over real HTTP and importing a delivery CSV.

The import used to wait at 0% forever here: its job lived in the web process's in-memory
cache, which the worker never saw.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from tests.delivery.ingest.conftest import csv_bytes, row
from tests.workers import ROOT

pytestmark = pytest.mark.worker

PASSWORD = "embedded-editor-pass-1"
SETUP = f"""
import datetime as dt
from django.conf import settings
from agencies.calendars import calendar_national, calendar_rebuild
from tests import factories
from tests.registry import make_published, make_service

calendar_rebuild(calendar_national(), span=(2025, 2027))
agency = factories.AgencyFactory(slug="dinas-embedded")
unit = factories.UnitFactory(agency=agency, slug="unit-embedded")
service = make_service(agency, unit, name="KTP Elektronik")
make_published(service, published_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
user = factories.UserFactory(username="editor_embedded", password="{PASSWORD}")
factories.MembershipFactory(user=user, agency=agency, role="editor")
print("AGENCY", agency.pk, service.slug)
print("DATABASE", settings.DATABASES["default"]["ENGINE"])
print("BROKER", settings.CELERY_BROKER_URL)
print("CACHE", settings.CACHES["default"]["BACKEND"], settings.CACHES["default"]["LOCATION"])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Embedded:
    """The embedded default's processes, in one VAR_DIR of their own."""

    var_dir: Path
    env: dict[str, str] = field(init=False)
    procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Only what `make run` has: no DATABASE_URL, CELERY_BROKER_URL, CACHE_URL, REDIS_URL
        # nor the test suite's own settings.
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "MAKLUMAT_VAR_DIR": str(self.var_dir),
        }

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def start(self, name: str, *args: str) -> None:
        log = (self.var_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append((name, proc, log))

    def log(self, name: str) -> str:
        return (self.var_dir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)[-3000:]}" for name, *_ in self.procs)

    def alive(self) -> None:
        for name, proc, _log in self.procs:
            assert proc.poll() is None, f"{name} exited early:\n{self.logs()}"

    def stop(self) -> None:
        for _name, proc, _log in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _name, proc, log in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
            log.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    system = Embedded(var_dir=tmp_path / "var")
    system.var_dir.mkdir()
    try:
        yield system
    finally:
        system.stop()


def _wait(condition: Any, *, timeout: float, what: str, system: Embedded) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        system.alive()
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"Timed out waiting for {what}:\n{system.logs()}")


def _csrf(session: requests.Session) -> str:
    return session.cookies["csrftoken"]


def test_make_runs_web_and_worker_import_a_csv_end_to_end(embedded: Embedded) -> None:
    embedded.manage("migrate", "--noinput", "-v0")
    setup = embedded.manage("shell", "-c", SETUP, timeout=120)
    agency_id, slug = re.search(r"^AGENCY (\d+) (\S+)$", setup, re.M).groups()  # type: ignore[union-attr]
    # The embedded default, as `make run` gets it.
    assert "DATABASE django.db.backends.sqlite3" in setup
    assert "BROKER filesystem://" in setup
    assert f"CACHE django.core.cache.backends.filebased.FileBasedCache {embedded.var_dir}" in setup

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    embedded.start("web", "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload")
    embedded.start(
        "worker", "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
        "--concurrency=1", "--pool=solo", "--without-gossip", "--without-mingle",
    )  # fmt: skip

    def web_answers() -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{base}/en/accounts/login/", timeout=5).status_code == 200
        return False

    _wait(web_answers, timeout=60, what="the web server", system=embedded)

    # An editor (no two-factor) logs in over HTTP, with the CSRF token like a browser.
    browser = requests.Session()
    login = f"{base}/en/accounts/login/"
    assert browser.get(login, timeout=10).status_code == 200
    answer = browser.post(
        login,
        data={
            "username": "editor_embedded",
            "password": PASSWORD,
            "csrfmiddlewaretoken": _csrf(browser),
        },
        headers={"Referer": login},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    assert "sessionid" in browser.cookies

    page = f"{base}/en/staff/deliveries/import/"
    assert browser.get(page, timeout=10).status_code == 200
    content = csv_bytes(
        [row(f"E-{n}", service=slug) for n in range(1, 6)] + [row("E-bad", service=slug, fee="-1")]
    )
    uploaded = browser.post(
        page,
        data={"agency": agency_id, "csrfmiddlewaretoken": _csrf(browser)},
        files={"file": ("permohonan.csv", content, "text/csv")},
        headers={"Referer": page},
        timeout=30,
        allow_redirects=False,
    )
    assert uploaded.status_code == 302, uploaded.text[-2000:]
    job_url = base + uploaded.headers["Location"]
    job_id = uuid.UUID(job_url.rstrip("/").rsplit("/", 1)[1])

    def finished() -> str | None:
        html = browser.get(job_url, timeout=10).text
        return html if "http-equiv" not in html else None

    html = _wait(finished, timeout=60, what="the import to finish", system=embedded)
    assert "Finished" in html and 'value="100"' in html, html[-3000:]
    assert "Lines with errors" in html and "E-bad" in html
    assert "delivery.import" in embedded.log("worker")  # run by the worker process

    with contextlib.closing(
        sqlite3.connect(f"file:{embedded.var_dir / 'maklumat.sqlite3'}?mode=ro", uri=True)
    ) as database:
        references = {
            reference
            for (reference,) in database.execute(
                "SELECT reference FROM delivery_servicedelivery WHERE agency_id = ?",
                (int(agency_id),),
            )
        }
        job = database.execute(
            "SELECT kind, state, rows_read, created, updated, errors, owner_id IS NOT NULL"
            " FROM imports_importjob WHERE id = ?",
            (job_id.hex,),
        ).fetchone()
    assert references == {f"E-{n}" for n in range(1, 6)}
    assert job == ("deliveries", "done", 6, 5, 0, 1, 1)
    embedded.alive()
