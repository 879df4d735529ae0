"""Fault tests with real parts: Redis stopped while breaches are written, and a worker
killed in the middle of a drain. Nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from delivery.services import delivery_record
from notifications.channels import message_id
from notifications.models import Notification, NotificationStatus
from notifications.outbox import conf, drain, requeue_stale
from notifications.tasks import drain_task
from oversight.models import Breach
from tests.delivery.conftest import wib
from tests.notifications.conftest import SMTPServer
from tests.notifications.faults import PrivateRedis, manage
from tests.workers import start_worker, wait_for

pytestmark = pytest.mark.worker


def _late(service: Any, ref: str) -> None:
    delivery_record(
        service=service,
        reference=ref,
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 20),
    )


def _email_rows() -> Any:
    return Notification.objects.filter(channel="email").exclude(recipient="")


def _assert_each_email_once(smtp: SMTPServer) -> None:
    """Every email row is sent, and the SMTP server got each exactly once."""
    rows = list(_email_rows())
    assert rows and {r.status for r in rows} == {NotificationStatus.SENT}
    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert set(received) == {message_id(r.idempotency_key) for r in rows}
    assert max(received.values()) == 1, received


SEND_DRAIN = "from notifications.tasks import drain_task; drain_task.delay()"


def _queue(name: str) -> str:
    # Under the test settings the default queue gets the xdist worker's name appended.
    return f"{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def test_redis_stopped_while_breaches_are_written(
    transactional_db: Any, smtp: SMTPServer, service: Any, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = {
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": "redis-down",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "MAKLUMAT_NOTIFICATIONS_KICK_DRAIN": "1",
    }
    queue = _queue("redis-down")
    worker = start_worker("redis-down", queue=queue, env=env)
    try:
        for i in range(3):
            _late(service, f"late-{i}")
        redis.stop()

        # The sweep (here as its management command) writes breaches while Redis is down:
        # it succeeds, and its outbox rows wait in the database.
        written = manage("sweep", env=env)
        assert written.returncode == 0, written.stderr[-2000:]
        assert "could not ask for a drain" in written.stderr
        breaches = Breach.objects.count()
        assert Breach.objects.filter(kind="late_delivery").count() == 3
        assert Notification.objects.filter(event="breach_created", recipient="").count() == (
            breaches
        )
        assert smtp.messages == []

        # Redis comes back. Beat's next drain (here: the same task, sent by a process
        # configured like beat) reaches the reconnected worker, which sends everything once.
        redis.start()
        kicked = manage("shell", "-c", SEND_DRAIN, env=env)
        assert kicked.returncode == 0, kicked.stderr[-2000:]
        wait_for(
            lambda: (
                _email_rows().exists()
                and not _email_rows().exclude(status=NotificationStatus.SENT).exists()
            ),
            timeout=90,
            what="the reconnected worker to send every email",
        )
        assert _email_rows().filter(breach__kind="late_delivery").count() == 2 * 3
        _assert_each_email_once(smtp)

        # With Redis up, the sweep's own kick drains at once, without waiting for beat.
        sent_before = len(smtp.messages)
        _late(service, "late-after")
        written = manage("sweep", env=env)
        assert written.returncode == 0, written.stderr[-2000:]
        assert "could not ask for a drain" not in written.stderr
        new = Breach.objects.get(kind="late_delivery", delivery__reference="late-after")
        wait_for(
            lambda: _email_rows().filter(breach=new, status=NotificationStatus.SENT).count() == 2,
            timeout=60,
            what="the kicked drain to send the new breach's emails",
        )
        assert len(smtp.messages) == sent_before + 2
        _assert_each_email_once(smtp)
    finally:
        worker.stop()
        redis.stop()


class StallingHandler:
    """Accepts messages, except that from the Nth message on DATA is never acknowledged (the
    server keeps the client waiting and then does not keep the message)."""

    def __init__(self, server: SMTPServer, stall_at: int) -> None:
        self.inner = server.handler
        self.stall_at = stall_at
        self.seen = 0
        self.stalled = False
        self.release = False

    @property
    def messages(self) -> list[Any]:
        return list(self.inner.messages)

    async def handle_RCPT(self, *args: Any) -> str:
        return str(await self.inner.handle_RCPT(*args))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        # From the Nth message on, hold every message (even on a new connection, should the
        # client time out and reconnect on a slow machine) until released.
        if self.stall_at and self.seen >= self.stall_at:
            self.stalled = True
            while not self.release:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content)
        with self.inner.lock:
            self.inner.messages.append(message)
        return "250 Message accepted for delivery"


def test_a_worker_killed_mid_drain_loses_nothing_and_sends_nothing_twice(
    transactional_db: Any, smtp: SMTPServer, service: Any, settings: Any
) -> None:
    from oversight.sweep import sweep

    for i in range(4):
        _late(service, f"late-{i}")
    sweep(kinds=["late_delivery"])  # 4 breaches x 2 unit contacts = 8 emails
    smtp.stop()
    stalling = StallingHandler(smtp, stall_at=4)
    smtp.handler = stalling  # type: ignore[assignment]
    smtp.start()
    # A queue of this run's own: the task a killed worker leaves unacknowledged is put back
    # on its queue by Redis an hour later, and must not reach a later run's worker.
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-drain-kill-{uuid.uuid4().hex[:8]}"
    worker = start_worker(
        "drain-kill", queue=queue, env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"}
    )
    try:
        drain_task.apply_async(queue=queue)
        wait_for(lambda: stalling.stalled, timeout=60, what="the 4th message to be in flight")
        # Killed while the 4th message waits for the server's answer.
        worker.kill()
    finally:
        stalling.release = True
        worker.stop()

    rows = list(_email_rows().order_by("pk"))
    assert len(rows) == 8
    status = Counter(r.status for r in rows)
    # The three accepted messages were recorded as sent one by one, as they went; the one in
    # flight is left `sending` (outcome unknown); the rest were never touched.
    assert len(smtp.messages) == 3
    assert status[NotificationStatus.SENT] == 3
    assert status[NotificationStatus.SENDING] >= 1
    assert (
        status[NotificationStatus.SENT]
        + status[NotificationStatus.SENDING]
        + status[NotificationStatus.PENDING]
        == 8
    )

    # The sweeper puts the abandoned rows back, and the next drain sends each missing one once.
    stalling.stall_at = 0  # a healthy server again (same port, still running)
    claimed = max(r.claimed_at for r in rows if r.claimed_at is not None)
    stale_after = dt.timedelta(seconds=conf("STALE_SENDING_SECONDS"), milliseconds=1)
    assert (
        requeue_stale(now=claimed + stale_after)["requeued"] == status[NotificationStatus.SENDING]
    )
    drain()
    _assert_each_email_once(smtp)
