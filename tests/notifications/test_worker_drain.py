"""The drainer and the ladder as beat runs them: on a real Celery worker over Redis."""

from __future__ import annotations

import pytest

from notifications.models import Notification, NotificationStatus
from notifications.tasks import drain_task, requeue_task
from tests.notifications.conftest import late_breach

pytestmark = pytest.mark.worker


def test_a_real_worker_drains_the_outbox(
    celery_worker_process, transactional_db, service, settings
):
    breach = late_breach(service)
    result = drain_task.apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE).get(timeout=60)
    assert result["claimed"] == 2 and result["sent"] == 2
    rows = Notification.objects.filter(breach=breach).exclude(recipient="").filter(channel="email")
    assert {r.status for r in rows} == {NotificationStatus.SENT}
    assert all(r.attempt_log.count() == 1 for r in rows)
    # A second run (e.g. beat and the sweeper's kick at once) sends nothing more.
    again = drain_task.apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE).get(timeout=60)
    assert again["claimed"] == 0
    counts = requeue_task.apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE).get(timeout=60)
    assert counts == {"requeued": 0, "waiting": 0}


def test_the_drainer_sweeper_and_ladder_are_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    tasks = {t.task: t for t in PeriodicTask.objects.filter(task__startswith="notifications.")}
    assert set(tasks) == {"notifications.drain", "notifications.requeue", "notifications.digest"}
    assert all(t.enabled for t in tasks.values())
    assert (
        tasks["notifications.drain"].interval.every,
        tasks["notifications.drain"].interval.period,
    ) == (1, "minutes")
    # The escalation ladder is oversight's task now, on the same schedule.
    ladder = PeriodicTask.objects.get(task="oversight.escalate")
    assert ladder.enabled and (ladder.interval.every, ladder.interval.period) == (15, "minutes")
