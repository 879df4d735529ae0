"""Reads that may lag go to a streaming read replica (core/db_router.py): a real second
PostgreSQL replaying the primary's WAL, under a running gunicorn. Anonymous public reads
come from the replica; a replica that cannot be reached is skipped (the primary answers);
a lagging replica never shows a visitor a version older than one they already saw."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS
from django.test import Client, RequestFactory
from django.urls import resolve
from django.utils import translation

from core import db_router
from tests.factories import AgencyFactory, UserFactory
from tests.notifications.conftest import free_port
from tests.ops.processes import ThrowawayPostgres, pg_bin, start_web

LSN = re.compile(r"^[0-9A-F]+/[0-9A-F]+$")


# --- The router and the middleware's decisions, in process --------------------------------


def test_writes_and_migrations_go_to_the_primary():
    router = db_router.ReplicaRouter()
    assert router.db_for_read(None) == DEFAULT_DB_ALIAS  # outside a request
    assert router.db_for_write(None) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "services") is True
    assert router.allow_migrate(db_router.REPLICA, "services") is False


def test_a_request_that_writes_reads_the_primary_afterwards():
    router = db_router.ReplicaRouter()
    state = db_router._Reads(alias=db_router.REPLICA)
    token = db_router._reads.set(state)
    try:
        assert router.db_for_read(None) == db_router.REPLICA
        with db_router.primary_reads():
            assert router.db_for_read(None) == DEFAULT_DB_ALIAS
        assert router.db_for_read(None) == db_router.REPLICA
        assert router.db_for_write(None) == DEFAULT_DB_ALIAS
        assert router.db_for_read(None) == DEFAULT_DB_ALIAS
        assert state.wrote
    finally:
        db_router._reads.reset(token)


@pytest.mark.django_db
def test_which_requests_may_lag():
    factory = RequestFactory()

    def request(path: str, method: str = "get", user: Any = None) -> Any:
        made = getattr(factory, method)(path)
        made.user = user or _Anonymous()
        with translation.override("en" if path.startswith("/en/") else "id"):
            made.resolver_match = resolve(path)
        return made

    assert db_router.may_lag(request("/"))
    assert db_router.may_lag(request("/en/agencies/"))
    assert db_router.may_lag(request("/api/v1/agencies/"))
    assert db_router.may_lag(request("/opendata/"))
    assert not db_router.may_lag(request("/staff/"))
    assert not db_router.may_lag(request("/accounts/login/"))
    assert not db_router.may_lag(request("/api/v1/agencies/", method="post"))
    assert not db_router.may_lag(request("/", user=UserFactory()))  # logged in: the primary


class _Anonymous:
    is_authenticated = False


def test_a_tampered_floor_cookie_is_ignored():
    factory = RequestFactory()
    for value, floor in (("0/3000060", "0/3000060"), ("x'; DROP", "0/0"), ("", "0/0")):
        request = factory.get("/")
        request.COOKIES[db_router.COOKIE] = value
        assert db_router.visitor_floor(request) == floor


@pytest.mark.django_db
def test_a_post_sets_the_visitors_floor_at_the_primarys_position(
    client: Client, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(db_router, "configured", lambda: True)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert LSN.match(response.cookies[db_router.COOKIE].value)
    assert response.cookies[db_router.COOKIE]["httponly"]
    # A plain staff read sets nothing (the visitor saw nothing a replica could lack).
    assert db_router.COOKIE not in client.get("/accounts/login/").cookies


# --- A real streaming replica ------------------------------------------------------------


class StreamingReplica(ThrowawayPostgres):
    """A hot standby of `primary`, from pg_basebackup -R, streaming its WAL."""

    def __init__(self, primary: ThrowawayPostgres) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="maklumat-replica-"))
        os.chmod(self.workdir, 0o755)
        self.dir = self.workdir / "pg"
        self.port = free_port()
        self.running = False
        self.dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                   "-U", "postgres", "-D", str(self.dir), "-R", "-X", "stream",
                   "--checkpoint=fast"])  # fmt: skip

    def refuse_connections(self, refuse: bool) -> None:
        """Reject (or accept again) TCP connections: the replica stays up, unreachable."""
        hba = self.dir / "pg_hba.conf"
        line = "host all all 127.0.0.1/32 reject\n"
        text = hba.read_text().replace(line, "")
        hba.write_text(line + text if refuse else text)
        self._run([pg_bin("pg_ctl"), "-D", str(self.dir), "reload"])


def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting until {what}")
        time.sleep(0.1)


def sql(url: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(query, params).fetchone()
        return row[0] if row else None


def reachable(url: str) -> bool:
    try:
        sql(url, "SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def get(base: str, path: str, floor: str | None = None) -> tuple[int, str, str | None]:
    """Status, body and the floor cookie set (if any), as a visitor holding `floor`."""
    headers = {"Cookie": f"{db_router.COOKIE}={floor}"} if floor else {}
    request = urllib.request.Request(base + path, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        cookies: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        morsel = cookies.get(db_router.COOKIE)
        return response.status, response.read().decode(), morsel.value if morsel else None


@pytest.mark.worker
def test_anonymous_reads_use_the_replica_and_never_go_back_in_time(
    transactional_db: Any, tmp_path: Path
):
    AgencyFactory(name="Dinas Alpha", slug="dinas-replika")
    primary = ThrowawayPostgres()
    replica: StreamingReplica | None = None
    web = None
    try:
        primary.start()
        primary_url = primary.copy_of_test_database()
        replica = StreamingReplica(primary)
        replica.start()
        replica_url = replica.url()
        assert sql(replica_url, "SELECT pg_is_in_recovery()") is True
        web = start_web(
            {
                "DATABASE_URL": primary_url,
                "DATABASE_REPLICA_URL": replica_url,
                "CONN_MAX_AGE": "0",
                "DATABASE_REPLICA_RETRY_SECONDS": "0.5",
                "DATABASE_REPLICA_MAX_LAG": "3600",
            },
            tmp_path / "web.log",
        )
        page, api = "/agencies/dinas-replika/", "/api/v1/agencies/"

        # A first transaction replayed (the lag check reads its commit time), then the
        # replica stops replaying; the primary renames the agency; the replica has
        # received that WAL but not applied it.
        sql(primary_url, "SELECT txid_current()")  # a transaction with a commit record
        first = sql(primary_url, "SELECT pg_current_wal_insert_lsn()")
        until(
            lambda: sql(replica_url, "SELECT pg_last_wal_replay_lsn() >= %s", (first,)),
            "the replica replayed a first transaction",
        )
        sql(replica_url, "SELECT pg_wal_replay_pause()")
        until(
            lambda: sql(replica_url, "SELECT pg_get_wal_replay_pause_state()") == "paused",
            "replay is paused",
        )
        with psycopg.connect(primary_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE agencies_agency SET name = 'Dinas Beta' WHERE slug = 'dinas-replika'"
            )
            renamed_at = sql(primary_url, "SELECT pg_current_wal_insert_lsn()")
        until(
            lambda: sql(replica_url, "SELECT pg_last_wal_receive_lsn() >= %s", (renamed_at,)),
            "the replica received the rename",
        )

        # The replica's own account: behind the rename, fresh within an hour, stuck at 0 s.
        def state(floor: str, max_lag: float) -> Any:
            with psycopg.connect(replica_url, autocommit=True) as connection:
                return connection.execute(db_router.STATE_SQL, (floor, max_lag)).fetchone()

        assert state("0/0", 3600) == (True, True, True)
        assert state(str(renamed_at), 3600) == (True, False, True)
        assert state("0/0", 0) == (True, True, False)

        # A new anonymous visitor reads the replica: the old name, and no floor to keep.
        for _ in range(3):  # both gunicorn workers
            status, body, floor = get(web.base, page)
            assert status == 200 and "Dinas Alpha" in body and "Dinas Beta" not in body
            assert floor is None
            status, body, floor = get(web.base, api)
            assert status == 200 and "Dinas Alpha" in body and floor is None

        # The replica cannot be reached: the primary answers, and the visitor now has a floor.
        replica.refuse_connections(True)
        until(lambda: not reachable(replica_url), "the replica refuses connections")
        status, body, seen = get(web.base, page)
        assert status == 200 and "Dinas Beta" in body, body[:500]
        assert seen is not None and LSN.match(seen)
        assert get(web.base, api)[0] == 200

        # Reachable again (still paused): new visitors are back on the replica ...
        replica.refuse_connections(False)
        until(lambda: reachable(replica_url), "the replica accepts connections")
        until(lambda: "Dinas Alpha" in get(web.base, page)[1], "the web reads the replica")
        # ... but the visitor who saw "Dinas Beta" never sees "Dinas Alpha" again.
        for _ in range(4):
            status, body, floor = get(web.base, page, seen)
            assert status == 200 and "Dinas Beta" in body and "Dinas Alpha" not in body
            assert floor is not None  # read from the primary, the floor moves up
            status, body, _floor = get(web.base, api, seen)
            assert status == 200 and "Dinas Beta" in body and "Dinas Alpha" not in body

        # Replay resumes: once the replica is past the visitor's floor, it serves them too.
        sql(replica_url, "SELECT pg_wal_replay_resume()")
        until(
            lambda: sql(replica_url, "SELECT pg_last_wal_replay_lsn() >= %s", (seen,)),
            "the replica replayed past the visitor's floor",
        )
        status, body, floor = get(web.base, page, seen)
        assert status == 200 and "Dinas Beta" in body and floor is None

        # The replica stopped: pages and the API answer from the primary.
        replica.stop()
        for path in (page, api, "/en/agencies/dinas-replika/"):
            status, body, _floor = get(web.base, path)
            assert status == 200 and "Dinas Beta" in body, body[:500]
        assert web.proc.poll() is None
    finally:
        if web is not None:
            web.stop()
        if replica is not None:
            replica.remove()
        primary.remove()
