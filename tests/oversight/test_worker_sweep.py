from __future__ import annotations

import pytest

from oversight.models import Breach, SweepRun
from oversight.tasks import sweep_task
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

pytestmark = pytest.mark.worker


def test_the_sweep_runs_on_a_real_worker(
    celery_worker_process, transactional_db, agency_a, unit_a, settings
):
    from agencies.calendars import calendar_national, calendar_rebuild
    from delivery.services import delivery_record

    calendar_rebuild(calendar_national(), span=(2025, 2027))
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)
    delivery_record(
        service=service,
        reference="late",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 20),
    )
    result = sweep_task.apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    result.get(timeout=60)
    assert SweepRun.objects.filter(succeeded=True).count() == 1
    assert Breach.objects.filter(kind="late_delivery", delivery__reference="late").count() == 1


def test_the_sweep_is_scheduled_every_minute(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="oversight.sweep")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "minutes"
