"""Queue isolation with real workers: an import that runs for a long time does not delay
a breach notice, because imports and notifications have their own queues and workers.

The import is held "long" deterministically: the test locks its job row, so the import
worker's claim waits inside PostgreSQL until the test lets go. The same scenario with one
worker for every queue (the shape of `make run`) shows the notice waiting behind it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from delivery.importing import import_start
from imports.models import ImportJob
from notifications.models import Notification, NotificationStatus
from tests import factories
from tests.delivery.ingest.conftest import csv_bytes, row
from tests.notifications.conftest import SMTPServer, late_breach
from tests.notifications.faults import PrivateRedis, manage
from tests.workers import Worker, database_url, start_worker, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def _env(broker: PrivateRedis, smtp: SMTPServer) -> dict[str, str]:
    return {
        "CELERY_BROKER_URL": broker.url,
        "CELERY_RESULT_BACKEND": "",
        "MAKLUMAT_CELERY_QUEUES": "1",  # the production routing (config/settings.py)
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "MAKLUMAT_NOTIFICATIONS_KICK_DRAIN": "0",
    }


def _publish(code: str, env: dict[str, str]) -> None:
    """Publish from a process of its own, through the settings' routes."""
    done = manage("shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr[-2000:]


def _import_job(service: Any) -> ImportJob:
    editor = factories.UserFactory(username=f"importer-{uuid.uuid4().hex[:6]}")
    factories.MembershipFactory(user=editor, agency=service.agency, role="editor")
    content = csv_bytes([row(f"Q-{i}", service=service.slug) for i in range(50)])
    return import_start(
        agency=service.agency, user=editor, upload=SimpleUploadedFile("q.csv", content)
    )


def _import_blocked_on(lock: psycopg.Connection[Any]) -> bool:
    """Whether another session waits for the lock the test holds (the import's claim)."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        pids = conn.execute("SELECT pg_blocking_pids(pid) FROM pg_stat_activity").fetchall()
    return any(lock.info.backend_pid in (blockers or []) for (blockers,) in pids)


def _emails_sent() -> int:
    return Notification.objects.filter(channel="email", status=NotificationStatus.SENT).count()


def _scenario(workers: list[Worker], env: dict[str, str], service: Any) -> tuple[float | None, Any]:
    """Start an import and hold it; then ask for a drain. Returns how long the notices
    took while the import was still held (None: not sent within 8 s), and the job."""
    late_breach(service, "late-q")
    assert _emails_sent() == 0
    job = _import_job(service)
    lock = psycopg.connect(database_url())
    try:
        lock.execute("SELECT 1 FROM imports_importjob WHERE id = %s FOR UPDATE", [job.pk])
        _publish(f"from delivery.tasks import delivery_import_task as t; t.delay('{job.pk}')", env)
        wait_for(lambda: _import_blocked_on(lock), timeout=60, what="the import to start")
        _publish("from notifications.tasks import drain_task; drain_task.delay()", env)
        asked = time.monotonic()
        took: float | None = None
        while time.monotonic() - asked < 8:
            if _emails_sent() > 0:
                took = time.monotonic() - asked
                break
            time.sleep(0.1)
        job.refresh_from_db()
        assert job.state == "waiting"  # still held: the import has not got past its claim
    finally:
        lock.rollback()
        lock.close()
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).finished, timeout=60, what="the import")
    wait_for(lambda: _emails_sent() > 0, timeout=60, what="the notices")
    return took, ImportJob.objects.get(pk=job.pk)


def test_a_long_import_does_not_delay_a_breach_notice(
    transactional_db: Any, smtp: SMTPServer, service: Any, broker: PrivateRedis
) -> None:
    env = _env(broker, smtp)
    workers = [
        start_worker("q-imports", queue="imports", env=env),
        start_worker("q-notifications", queue="notifications", env=env),
    ]
    try:
        took, job = _scenario(workers, env, service)
    finally:
        for worker in workers:
            worker.stop()
    assert took is not None, "the notice waited behind the import"
    assert job.state == "done" and job.created == 50
    emails = Notification.objects.filter(channel="email").exclude(recipient="")
    assert {n.status for n in emails} == {NotificationStatus.SENT}
    assert len(smtp.messages) == emails.count()  # each sent once


def test_one_worker_for_every_queue_consumes_them_all_in_turn(
    transactional_db: Any, smtp: SMTPServer, service: Any, broker: PrivateRedis
) -> None:
    """The embedded shape (`make run`: one worker, no -Q): every queue is consumed, and a
    held import does delay the notice there (the test above can tell the difference)."""
    env = _env(broker, smtp)
    worker = start_worker("q-all", queue="", env=env)
    try:
        took, job = _scenario([worker], env, service)
    finally:
        worker.stop()
    assert took is None
    assert job.state == "done" and _emails_sent() > 0
