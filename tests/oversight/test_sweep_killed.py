"""A sweep whose worker process is killed mid-way, then run again, completes the set.

The worker is a real `celery worker` process, killed with SIGKILL while the sweep is
between rules: the test holds an ACCESS EXCLUSIVE lock on the charter table, which only
the missing-charter rule reads, so the rules before it have committed their breaches and
the sweep is blocked in that rule when the process dies.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from django.conf import settings

from charter.models import Charter
from delivery.services import delivery_record
from notifications.models import Notification
from oversight.models import Breach, SweepRun
from oversight.sweep import sweep
from oversight.tasks import sweep_task
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service
from tests.workers import database_url, start_worker, wait_for

pytestmark = pytest.mark.worker


def _facts() -> set[tuple[str, str, int, str]]:
    return set(Breach.objects.values_list("kind", "subject_type", "subject_id", "period"))


def _record(service: Any, ref: str, completed: Any, fee: int = 0) -> Any:
    delivery, _ = delivery_record(
        service=service,
        reference=ref,
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=completed,
        fee_charged=fee,
    )
    return delivery


def test_a_sweep_killed_mid_way_and_run_again_completes_the_set(
    transactional_db: Any, agency_a: Any, unit_a: Any
) -> None:
    from agencies.calendars import calendar_national, calendar_rebuild

    calendar_rebuild(calendar_national(), span=(2025, 2027))
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    late = [_record(service, f"late-{i}", wib(2026, 1, 20)) for i in range(5)]
    charged = _record(service, "charged", wib(2026, 1, 6), fee=5000)
    on_time = _record(service, "on-time", wib(2026, 1, 6))
    assert not Charter.objects.filter(unit=unit_a).exists()  # so: a missing-charter breach

    # A queue of this run's own: the task a killed worker leaves unacknowledged is put back
    # on its queue by Redis an hour later, and must not reach a later run's worker.
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-sweep-kill-{uuid.uuid4().hex[:8]}"
    worker = start_worker("sweep-kill", queue=queue)
    locker = psycopg.connect(database_url())
    try:
        locker.execute(f"LOCK TABLE {Charter._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        sweep_task.apply_async(queue=queue)

        def blocked_in_a_later_rule() -> bool:
            # (A fresh autocommit connection: statistics views are snapshotted per transaction.)
            with psycopg.connect(database_url(), autocommit=True) as monitor:
                waiting = monitor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                ).fetchone()
            return bool(waiting and waiting[0]) and Breach.objects.exists()

        wait_for(blocked_in_a_later_rule, timeout=60, what="the sweep to block on the lock")
        worker.kill()
    finally:
        locker.rollback()
        locker.close()
        worker.stop()

    # The killed run committed the rules before the lock, and nothing of the rule it died in.
    killed = SweepRun.objects.get()
    assert killed.finished_at is None and not killed.succeeded
    partial = _facts()
    assert ("late_delivery", "delivery", late[0].pk, "") in partial
    assert not Breach.objects.filter(kind="missing_charter").exists()
    # Its outbox rows came with its breaches, in the same transactions.
    assert Notification.objects.count() == len(partial)

    # The next run (beat's next minute) completes the set: nothing missing, nothing twice.
    sweep()
    complete = _facts()
    assert partial < complete
    expected_deliveries = {("late_delivery", "delivery", d.pk, "") for d in late} | {
        ("overcharge", "delivery", charged.pk, "")
    }
    assert {f for f in complete if f[1] == "delivery"} == expected_deliveries
    assert on_time.pk not in {f[2] for f in complete if f[1] == "delivery"}
    assert ("missing_charter", "unit", unit_a.pk, "") in complete
    assert Breach.objects.count() == len(complete)  # the unique fact: never twice
    assert Notification.objects.filter(event="breach_created").count() == len(complete)
    # And a further run finds nothing new.
    assert sum(sweep().created.values()) == 0
