"""PostgreSQL restarted, several times, while the whole app works: gunicorn serving pages, a
Celery worker running the sweep and the outbox drainer as beat schedules them (a real
`celery beat`), and an agency's system recording late deliveries one by one.

The restarts are placed where they hurt: one while the sweep is inside its breach INSERT
(the test holds a lock the INSERT waits for, then stops the server), one while the drainer
has a message in flight (the SMTP sink holds the message until the server is down, then
accepts it: the drainer must record `sent` once the database is back, or the row would be
sent again), and plain ones while deliveries keep arriving. During each outage pages answer
503 with the project's page; afterwards 200, from the same processes. Once everything has
settled: one breach per late delivery, one fan-out and one email row per breach and
recipient, and the SMTP sink received each email exactly once.
"""

from __future__ import annotations

import asyncio
import email
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from notifications.channels import message_id
from tests import factories
from tests.delivery.conftest import wib
from tests.notifications.conftest import SMTPServer
from tests.notifications.faults import PrivateRedis
from tests.ops.processes import ThrowawayPostgres, Web, start_web
from tests.registry import make_published, make_service
from tests.workers import ROOT, start_worker

pytestmark = pytest.mark.worker

UNITS = 8
PER_SERVICE = 5  # under the digest's burst threshold (10 notices of one event per unit)
LATE = UNITS * PER_SERVICE


class HoldingHandler:
    """The SMTP sink's handler, able to hold one message in DATA until released."""

    def __init__(self, server: SMTPServer) -> None:
        self.inner = server.handler
        self.hold = False
        self.holding = False
        self.release = False

    async def handle_RCPT(self, *args: Any) -> str:
        return str(await self.inner.handle_RCPT(*args))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold:
            self.hold = False
            self.holding = True
            while not self.release:
                await asyncio.sleep(0.05)
            self.holding = False
        message = email.message_from_bytes(envelope.content)
        with self.inner.lock:
            self.inner.messages.append(message)
        return "250 Message accepted for delivery"


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class Copy:
    """Plain SQL on the throwaway cluster's copy of the test database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            return list(connection.execute(query, params).fetchall())

    def value(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.rows(query, params)
        return rows[0][0] if rows else None


def _world(agency: Any) -> None:
    """UNITS units, one contact address each, each with one published service."""
    for i in range(UNITS):
        unit = factories.UnitFactory(
            agency=agency, slug=f"restart-{i}", contact_emails=[f"unit{i}@restart.go.id"]
        )
        service = make_service(agency, unit, name=f"Layanan {i}")
        make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)


def _schedule_every_two_seconds() -> None:
    """Beat's schedule, before the copy is taken: the sweep and the drainer as in production,
    every two seconds instead of every minute; every other periodic task off. Written here
    rather than edited, because an earlier transactional test on this worker may have
    flushed the rows the migrations put there."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_two_seconds = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update(enabled=False)
    for name, task in (
        ("Breach sweep", "oversight.sweep"),
        ("Outbox drain", "notifications.drain"),
    ):
        PeriodicTask.objects.filter(task=task).delete()
        PeriodicTask.objects.create(name=name, task=task, interval=every_two_seconds, enabled=True)


def _assert_scheduled(db: Copy) -> None:
    enabled = db.rows(
        "SELECT task FROM django_celery_beat_periodictask WHERE enabled ORDER BY task"
    )
    assert [t for (t,) in enabled] == ["notifications.drain", "oversight.sweep"]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _no_trace(body: str) -> None:
    assert "Traceback" not in body and "OperationalError" not in body
    assert "psycopg" not in body and "127.0.0.1" not in body


def _outage(pg: ThrowawayPostgres, web: Web, *, before_start: Callable[[], None] = lambda: None):
    """Stop the server; pages answer 503 meanwhile; start it again; pages answer 200."""
    pg.stop()
    status, headers, body = web.get("/")
    assert status == 503, body[:500]
    assert headers["Retry-After"] == "30" and "Sementara tidak tersedia" in body
    _no_trace(body)
    status, headers, body = web.get("/api/v1/agencies/")
    assert status == 503 and headers["Content-Type"] == "application/problem+json"
    _no_trace(body)
    before_start()
    pg.start()
    for _ in range(4):  # each gunicorn worker finds its old connection dead, and reconnects
        status, _headers, body = web.get("/")
        assert status == 200, body[:500]


@pytest.mark.timeout(600)
def test_postgresql_restarted_while_web_worker_sweep_and_drainer_run(
    transactional_db: Any, smtp: SMTPServer, agency_a: Any, national: Any, tmp_path: Path
) -> None:
    _world(agency_a)
    holding = HoldingHandler(smtp)
    smtp.handler = holding  # type: ignore[assignment]
    smtp.stop()
    smtp.start()

    pg = ThrowawayPostgres()
    pg.start()
    broker = PrivateRedis(tmp_path)
    broker.start()
    procs: list[subprocess.Popen[bytes]] = []
    web = worker = None
    try:
        _schedule_every_two_seconds()
        db = Copy(pg.copy_of_test_database())
        _assert_scheduled(db)
        queue = f"pg-restart-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        env = {
            "DATABASE_URL": db.url,
            "CONN_MAX_AGE": "600",
            "CELERY_BROKER_URL": broker.url,
            "CELERY_RESULT_BACKEND": "",
            "CELERY_TASK_DEFAULT_QUEUE": "pg-restart",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "MAKLUMAT_NOTIFICATIONS_KICK_DRAIN": "1",
            "MAKLUMAT_PAGE_CACHE": "0",
        }
        web = start_web(env, tmp_path / "web.log")
        worker = start_worker("pg-restart", queue=queue, env=env)
        procs.append(
            _start(
                [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                 "--max-interval=1", f"--pidfile={tmp_path / 'beat.pid'}",
                 f"--schedule={tmp_path / 'beat-schedule'}"],
                env, tmp_path / "beat.log",
            )
        )  # fmt: skip
        feeder_log = tmp_path / "feeder.log"
        feeder = _start(
            [sys.executable, "manage.py", "shell", "-c",
             "from tests.ops.outage_feeder import feed; "
             f"feed({agency_a.slug!r}, per_service={PER_SERVICE}, pause=0.15)"],
            env, feeder_log,
        )  # fmt: skip
        procs.append(feeder)
        assert web.get("/")[0] == 200

        # 1. Mid-sweep: hold a lock the sweep's breach INSERT must wait for, then stop.
        _until(lambda: db.value("SELECT COUNT(*) FROM oversight_breach") > 0, "a first breach")
        lock = psycopg.connect(db.url)
        lock.execute("LOCK TABLE oversight_breach IN SHARE ROW EXCLUSIVE MODE")
        pid = lock.info.backend_pid
        _until(
            lambda: bool(
                db.value(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    (pid,),
                )
            ),
            "the sweep to wait inside its INSERT",
        )
        _outage(pg, web)
        lock.close()

        # 2. Mid-drain: a message in flight when the server stops, accepted while it is down.
        holding.hold = True
        _until(lambda: holding.holding, "a message in flight")

        def accept_while_down() -> None:
            holding.release = True
            _until(lambda: not holding.holding, "the held message to be accepted")
            time.sleep(1.5)  # the drainer tries to record it, and waits

        _outage(pg, web, before_start=accept_while_down)

        # 3. Plain restarts while deliveries keep arriving.
        for _ in range(3):
            time.sleep(1.0)
            _outage(pg, web)

        assert feeder.wait(timeout=180) == 0, feeder_log.read_text()[-3000:]
        assert "fed all" in feeder_log.read_text()

        def settled() -> bool:
            late = db.value("SELECT COUNT(*) FROM oversight_breach WHERE kind = 'late_delivery'")
            unsent = db.value(
                "SELECT COUNT(*) FROM notifications_notification "
                "WHERE status IN ('pending', 'sending') AND channel = 'email'"
            )
            return late == LATE and unsent == 0

        # Beat runs both every two seconds; an email whose rendering met the outage is retried
        # after the outbox's first backoff (BACKOFF_BASE_SECONDS, a minute).
        _until(settled, "every breach and email", timeout=150)
        time.sleep(3)  # a sweep and a drain more: nothing new may appear
        assert settled()

        # The same processes throughout.
        assert web.proc.poll() is None and worker.proc.poll() is None
        assert all(proc.poll() is None for proc in procs if proc is not feeder)
        assert web.get("/")[0] == 200
        assert "recording notification" in worker.log_text(), "the drain was not hit mid-send"

        # Every late delivery stored once, and one breach for each.
        assert db.value("SELECT COUNT(*) FROM delivery_servicedelivery") == LATE
        per_delivery = db.rows(
            "SELECT d.id, COUNT(b.id) FROM delivery_servicedelivery d LEFT JOIN oversight_breach "
            "b ON b.delivery_id = d.id AND b.kind = 'late_delivery' GROUP BY d.id"
        )
        assert len(per_delivery) == LATE and {n for _id, n in per_delivery} == {1}
        # One fan-out row per breach (every kind), and one email row per breach of a unit
        # with one contact address.
        fanouts = db.rows(
            "SELECT b.id, COUNT(n.id) FROM oversight_breach b LEFT JOIN "
            "notifications_notification n ON n.subject_id = b.id AND n.recipient = '' "
            "AND n.event = 'breach_created' GROUP BY b.id"
        )
        assert {n for _id, n in fanouts} == {1}
        late_emails = db.rows(
            "SELECT b.id, COUNT(n.id), MIN(n.status), MAX(n.status) FROM oversight_breach b "
            "LEFT JOIN notifications_notification n ON n.subject_id = b.id "
            "AND n.channel = 'email' AND n.recipient <> '' AND n.event = 'breach_created' "
            "WHERE b.kind = 'late_delivery' GROUP BY b.id"
        )
        assert len(late_emails) == LATE
        assert {(n, low, high) for _id, n, low, high in late_emails} == {(1, "sent", "sent")}
        # The SMTP sink got every email row exactly once, and nothing else.
        keys = [k for (k,) in db.rows(
            "SELECT idempotency_key FROM notifications_notification "
            "WHERE channel = 'email' AND recipient <> ''"
        )]  # fmt: skip
        assert (
            db.value(
                "SELECT COUNT(*) FROM notifications_notification "
                "WHERE channel = 'email' AND recipient <> '' AND status <> 'sent'"
            )
            == 0
        )
        received = Counter(m["Message-ID"] for m in holding.inner.messages)
        assert set(received) == {message_id(k) for k in keys}
        assert max(received.values()) == 1, [m for m, n in received.items() if n > 1]
    finally:
        holding.release = True
        for proc in procs:
            _stop(proc)
        if worker is not None:
            worker.stop()
        if web is not None:
            web.stop()
        broker.stop()
        pg.remove()
