"""Prometheus metrics, served at /metrics (core.views.metrics) behind METRICS_TOKEN.

Several processes produce them: gunicorn's workers (requests, cache), the Celery workers
(sweep runs, breaches created, notifications sent and failed). They use prometheus_client's
multiprocess mode: each process writes its counters and histograms to its own small mmap
file under PROMETHEUS_MULTIPROC_DIR (settings: MAKLUMAT_VAR_DIR/metrics unless set), and a
scrape of any web process adds them all up. Counting in the process where the event happens
is exact and free at scrape time; recomputing counters from the database at each scrape
would grow with history (every sweep run, every notification) at national scale.
What is a state, not an event (queue lengths, the cache hit ratio) is read at scrape time.

The directory must be shared by every process of one host (docker-compose mounts one
volume into web and the workers) and emptied only while they are all stopped (a deploy):
counters then restart from zero, which Prometheus's rate() handles.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "maklumat_http_requests_total",
    "HTTP requests answered, by view name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "maklumat_http_request_duration_seconds",
    "Time to answer an HTTP request, by view name.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SWEEP_RUNS = Counter(
    "maklumat_sweep_runs_total", "Runs of the oversight sweep, by outcome.", ["outcome"]
)
SWEEP_SECONDS = Histogram(
    "maklumat_sweep_duration_seconds",
    "Duration of one oversight sweep run.",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
BREACHES_CREATED = Counter(
    "maklumat_breaches_created_total", "Breaches created by the sweep, by kind.", ["kind"]
)
NOTIFICATIONS = Counter(
    "maklumat_notifications_total",
    "Notification send attempts, by channel and result (sent, transient, permanent).",
    ["channel", "result"],
)
CACHE_LOOKUPS = Counter(
    "maklumat_cache_lookups_total", "Reads of the default cache, by result.", ["result"]
)


def _safe(record: Callable[..., None]) -> Callable[..., None]:
    """A metric that cannot be written (a full disk) must never fail the work it counts."""

    @functools.wraps(record)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            record(*args, **kwargs)
        except Exception as exc:
            logger.warning("metrics: could not record %s (%s)", record.__name__, exc)

    return wrapper


@_safe
def sweep_observed(*, seconds: float, created: Mapping[str, int], succeeded: bool) -> None:
    SWEEP_RUNS.labels(outcome="succeeded" if succeeded else "partial").inc()
    SWEEP_SECONDS.observe(seconds)
    for kind, count in created.items():
        if count:
            BREACHES_CREATED.labels(kind=kind).inc(count)


@_safe
def notification_observed(*, channel: str, result: str) -> None:
    NOTIFICATIONS.labels(channel=channel, result=result).inc()


@_safe
def request_observed(*, view: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    REQUEST_SECONDS.labels(view=view).observe(seconds)


@_safe
def cache_lookup_observed(*, hit: bool) -> None:
    CACHE_LOOKUPS.labels(result="hit" if hit else "miss").inc()


class MetricsMiddleware:
    """Counts and times every request by its URL pattern's name (never the raw path,
    whose values are unbounded). First in MIDDLEWARE, so it sees every answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match is not None else "<unmatched>"
        request_observed(
            view=view,
            method=request.method if request.method in _METHODS else "OTHER",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


# --- The default cache: hits and misses -------------------------------------------------
_MISSING = object()


def instrument_cache_class(cls: type) -> None:
    """Count hits and misses of `cls.get` (the default cache's class). Idempotent."""
    original: Any = getattr(cls, "get")  # noqa: B009
    if getattr(original, "_maklumat_counted", False):
        return

    @functools.wraps(original)
    def get(self: Any, key: Any, default: Any = None, version: Any = None) -> Any:
        value = original(self, key, _MISSING, version)
        cache_lookup_observed(hit=value is not _MISSING)
        return default if value is _MISSING else value

    get._maklumat_counted = True  # type: ignore[attr-defined]
    cls.get = get  # type: ignore[attr-defined]


# --- Read at scrape time -----------------------------------------------------------------
def celery_queues() -> list[str]:
    """Every queue the deployment's workers consume (the default one and the routed ones)."""
    names = [settings.CELERY_TASK_DEFAULT_QUEUE]
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        queue = route.get("queue") if isinstance(route, dict) else route
        if queue and queue not in names:
            names.append(queue)
    return names


# kombu's Redis transport keeps one list per queue and priority step (0 is the bare name).
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting in each Celery queue, when the broker is Redis (else None)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        queues = celery_queues()
        for name in queues:
            pipe.llen(name)
            for step in _PRIORITY_STEPS:
                pipe.llen(f"{name}{_PRIORITY_SEPARATOR}{step}")
        counts = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(_PRIORITY_STEPS)
    return {name: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, name in enumerate(queues)}


class ScrapeTimeCollector:
    """Queue lengths and the cache hit ratio, computed when /metrics is read."""

    def __init__(self, counted: Iterable[Metric]) -> None:
        self.counted = list(counted)

    def collect(self) -> Iterator[Metric]:
        hits = misses = 0.0
        for family in self.counted:
            if family.name == "maklumat_cache_lookups":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        if sample.labels.get("result") == "hit":
                            hits += sample.value
                        else:
                            misses += sample.value
        ratio = GaugeMetricFamily(
            "maklumat_cache_hit_ratio",
            "Share of default-cache reads that found a value, since the counters started.",
        )
        ratio.add_metric([], hits / (hits + misses) if hits + misses else 0.0)
        yield ratio
        try:
            lengths = queue_lengths()
        except Exception as exc:  # the broker is down: the other metrics still answer
            logger.warning("metrics: could not read the queue lengths (%s)", exc)
            up = GaugeMetricFamily("maklumat_broker_up", "Whether the broker answered.")
            up.add_metric([], 0)
            yield up
            return
        if lengths is None:
            return
        up = GaugeMetricFamily("maklumat_broker_up", "Whether the broker answered.")
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily(
            "maklumat_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        for name, length in lengths.items():
            family.add_metric([name], length)
        yield family


def exposition() -> bytes:
    """The text exposition of every process's metrics plus the scrape-time ones."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted_registry)
    else:  # the folder could not be written (config/settings.py): this process's own
        counted_registry = REGISTRY
    counted = list(counted_registry.collect())
    registry = CollectorRegistry()
    registry.register(_Fixed(counted))
    registry.register(ScrapeTimeCollector(counted))
    return generate_latest(registry)


class _Fixed:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families
