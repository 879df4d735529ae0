"""/metrics: token-protected, counts requests, sweeps, breaches, notifications and cache
reads across processes, and reads the queue lengths from the broker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from django.core.cache import cache

from core.tasks import ping_task
from notifications.outbox import drain
from tests.factories import BreachFactory
from tests.ops.metrics_text import TOKEN, sample, scrape
from tests.workers import ROOT


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_without_a_token_configured_the_endpoint_does_not_exist(client: Any, settings: Any):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_wrong_or_missing_token_is_refused(client: Any, token: str, header: str | None):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"maklumat_" not in response.content


def test_requests_are_counted_by_view_name_and_status(client: Any, token: str, db: Any):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code in (200, 503)
    client.get("/this-page-does-not-exist/")
    after = scrape(client)
    name = "maklumat_http_requests_total"
    healthz = sample(after, name, view="healthz") - sample(before, name, view="healthz")
    assert healthz == 3
    missing = sample(after, name, view="<unmatched>", status="404") - sample(
        before, name, view="<unmatched>", status="404"
    )
    assert missing == 1
    count = "maklumat_http_request_duration_seconds_count"
    assert sample(after, count, view="healthz") - sample(before, count, view="healthz") == 3
    assert "/this-page-does-not-exist" not in after  # raw paths never become labels


def test_sweeps_breaches_and_notifications_are_counted(client: Any, token: str, service: Any):
    before = scrape(client)
    BreachFactory.create(service=service, reference="late-1")  # the real sweep
    BreachFactory.create(service=service, reference="late-2")
    result = drain()
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("maklumat_sweep_runs_total") == 2
    assert delta("maklumat_sweep_duration_seconds_count") == 2
    assert delta("maklumat_breaches_created_total", kind="late_delivery") == 2
    sent = result.outcomes["sent"]
    assert sent > 0
    assert delta("maklumat_notifications_total", result="sent") == sent
    assert delta("maklumat_notifications_total", channel="email", result="sent") > 0


def test_a_failed_send_is_counted_as_failed(client: Any, token: str, service: Any, settings: Any):
    BreachFactory.create(service=service, reference="late-1")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    before = scrape(client)
    drain()
    after = scrape(client)
    name = "maklumat_notifications_total"
    failed = sample(after, name, channel="email", result="transient") - sample(
        before, name, channel="email", result="transient"
    )
    assert failed > 0
    assert sample(after, name, channel="email", result="sent") == sample(
        before, name, channel="email", result="sent"
    )


def test_cache_hits_and_misses_give_a_ratio(client: Any, token: str, db: Any):
    key = f"metrics-{uuid.uuid4()}"
    before = scrape(client)
    assert cache.get(key) is None
    assert cache.get(key, "fallback") == "fallback"
    cache.set(key, 0)
    assert cache.get(key, "fallback") == 0  # a stored falsy value is a hit
    after = scrape(client)
    name = "maklumat_cache_lookups_total"
    assert sample(after, name, result="miss") - sample(before, name, result="miss") >= 2
    assert sample(after, name, result="hit") - sample(before, name, result="hit") >= 1
    hits, misses = sample(after, name, result="hit"), sample(after, name, result="miss")
    assert sample(after, "maklumat_cache_hit_ratio") == pytest.approx(hits / (hits + misses))


def test_queue_lengths_come_from_the_broker(client: Any, token: str, settings: Any, db: Any):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    queue = f"metrics-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue  # nobody consumes it
    from config.celery import app

    try:
        for i in range(3):
            ping_task.apply_async(args=(str(i),), queue=queue)
        text = scrape(client)
        assert sample(text, "maklumat_celery_queue_length", queue=queue) == 3
        assert sample(text, "maklumat_broker_up") == 1
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)  # type: ignore[attr-defined]


def test_a_broker_that_is_down_does_not_break_the_scrape(client: Any, token: str, settings: Any):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    text = scrape(client)
    assert sample(text, "maklumat_broker_up") == 0
    assert "maklumat_cache_hit_ratio" in text


def test_a_metrics_folder_that_cannot_be_written_does_not_stop_the_app():
    """A process that cannot write the shared folder still starts and counts for itself."""
    code = (
        "import django, os; django.setup(); from core import metrics;"
        "assert 'PROMETHEUS_MULTIPROC_DIR' not in os.environ;"
        "metrics.request_observed(view='v', method='GET', status=200, seconds=0.1);"
        "print(metrics.exposition().decode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
            "PROMETHEUS_MULTIPROC_DIR": "/proc/not-a-folder",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sample(done.stdout, "maklumat_http_requests_total", view="v") == 1
