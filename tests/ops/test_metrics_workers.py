"""Counters written by a real Celery worker process show up in the web's /metrics
(prometheus_client's multiprocess mode: one directory, many processes)."""

from __future__ import annotations

from typing import Any

import pytest

from oversight.tasks import sweep_task
from tests.delivery.conftest import wib
from tests.ops.metrics_text import TOKEN, sample, scrape
from tests.registry import make_published, make_service

pytestmark = pytest.mark.worker


def test_a_sweep_on_a_real_worker_is_counted_in_the_web_metrics(
    celery_worker_process: Any, transactional_db: Any, agency_a: Any, unit_a: Any, settings: Any
) -> None:
    from agencies.calendars import calendar_national, calendar_rebuild
    from delivery.services import delivery_record

    settings.METRICS_TOKEN = TOKEN
    from django.test import Client

    client = Client()
    calendar_rebuild(calendar_national(), span=(2025, 2027))
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)
    for ref in ("late-1", "late-2", "late-3"):
        delivery_record(
            service=service,
            reference=ref,
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
            completed_at=wib(2026, 1, 20),
        )
    before = scrape(client)
    created = sweep_task.apply_async(queue=settings.CELERY_TASK_DEFAULT_QUEUE).get(timeout=60)
    assert created["late_delivery"] == 3
    after = scrape(client)
    name = "maklumat_breaches_created_total"
    assert (
        sample(after, name, kind="late_delivery") - sample(before, name, kind="late_delivery") == 3
    )
    runs = "maklumat_sweep_runs_total"
    assert sample(after, runs, outcome="succeeded") - sample(before, runs, outcome="succeeded") == 1
