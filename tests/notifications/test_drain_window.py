"""The duplicate window of the fast drainer, with real processes and a real SMTP server.

A drainer process killed after the server accepted a message and before the drainer
recorded it sends that one message twice at most (after the sweeper re-queues it), never
more; two drainer processes at once send each message once.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from notifications.outbox import conf, requeue_stale
from notifications.outbox.fanout import expand_fanouts
from tests.notifications.conftest import SMTPServer, late_breach
from tests.workers import ROOT, database_url

DRAIN = (
    "import django; django.setup(); from notifications.outbox import drain; "
    "r = drain(batch_size={batch}); print(r.claimed, dict(r.outcomes))"
)


def _drainer(port: int, *, batch: int = 100) -> subprocess.Popen[str]:
    """`drain()` in a process of its own, on this test database and the SMTP server."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MAKLUMAT_TESTING": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", DRAIN.format(batch=batch)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class KillingHandler:
    """Accepts every message (the receiver has it) and, at the `kill_at`-th, SIGKILLs the
    drainer before answering 250: the drainer dies between the send and its record."""

    def __init__(self, inner: Any, kill_at: int) -> None:
        self.inner = inner
        self.kill_at = kill_at
        self.seen = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def messages(self) -> list[Any]:
        return list(self.inner.messages)

    async def handle_RCPT(self, *args: Any) -> str:
        return str(await self.inner.handle_RCPT(*args))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.inner.lock:
            self.inner.messages.append(email.message_from_bytes(envelope.content))
            self.seen += 1
        if self.seen == self.kill_at and self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        return "250 Message accepted for delivery"


def _pending_emails(service: Any, count: int, settings: Any) -> None:
    # One email each, however many at once (not held for the unit's daily digest).
    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}), "DIGEST_BURST_AT": 0}
    for i in range(count):
        late_breach(service, ref=f"late-{i}")  # 2 unit contacts each
    while expand_fanouts(now=timezone.now(), limit=100):
        pass


def _rows() -> list[Notification]:
    return list(Notification.objects.filter(channel="email").exclude(recipient="").order_by("pk"))


@pytest.mark.parametrize("kill_at", [1, 5])
def test_a_drainer_killed_between_send_and_record_duplicates_one_message_at_most(
    transactional_db: Any, smtp: SMTPServer, service: Any, kill_at: int, settings: Any
) -> None:
    _pending_emails(service, 5, settings)  # 10 emails
    killing = KillingHandler(smtp.handler, kill_at=kill_at)
    smtp.stop()
    smtp.handler = killing  # type: ignore[assignment]
    smtp.start()
    killing.proc = _drainer(smtp.port, batch=4)
    killing.proc.communicate(timeout=120)
    assert killing.proc.returncode == -signal.SIGKILL

    rows = _rows()
    status = Counter(r.status for r in rows)
    # Every accepted message before the last was recorded `sent` before the next went; the
    # last one accepted is `sending` (its outcome unknown to the dead drainer).
    assert len(smtp.messages) == kill_at
    assert status[NotificationStatus.SENT] == kill_at - 1
    assert status[NotificationStatus.SENDING] >= 1

    # The sweeper puts the rows of the dead drainer back; a drainer sends what is missing.
    claimed = max(r.claimed_at for r in rows if r.claimed_at is not None)
    stale = dt.timedelta(seconds=conf("STALE_SENDING_SECONDS"), milliseconds=1)
    assert requeue_stale(now=claimed + stale)["requeued"] == status[NotificationStatus.SENDING]
    killing.kill_at = 0
    again = _drainer(smtp.port)
    again.communicate(timeout=120)
    assert again.returncode == 0
    assert {r.status for r in _rows()} == {NotificationStatus.SENT}
    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(received) == 10
    assert sum(received.values()) <= 10 + 1  # the one message in the window, at most
    assert [n for n in received.values() if n > 1] in ([], [2])


def test_two_drainer_processes_at_once_send_each_message_once(
    transactional_db: Any, smtp: SMTPServer, service: Any, settings: Any
) -> None:
    _pending_emails(service, 15, settings)  # 30 emails
    assert [r.status for r in _rows()] == [NotificationStatus.PENDING] * 30, Counter(
        (r.status, r.next_attempt_at) for r in _rows()
    )
    drainers = [_drainer(smtp.port, batch=3) for _ in range(2)]
    deadline = time.monotonic() + 180
    said = []
    for proc in drainers:
        out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        assert proc.returncode == 0, err
        said.append(out + err[-2000:])
    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(received) == 30 and set(received.values()) == {1}, said
    assert {r.status for r in _rows()} == {NotificationStatus.SENT}
    assert all(r.attempt_log.count() == 1 for r in _rows())
