from __future__ import annotations

import pytest

from core.tasks import ping_task

pytestmark = pytest.mark.worker


def test_a_task_round_trips_through_redis_to_a_real_worker(celery_worker_process, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    result = ping_task.apply_async(args=("maklumat",), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    assert result.get(timeout=30) == "pong:maklumat"
    assert result.successful()
