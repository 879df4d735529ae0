"""Performance figures computed ahead by the beat task `delivery.report_figures`
(delivery/figures.py): the pages read them and compute nothing; never computed, or computed
for another day, a page computes its own scope once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from delivery import figures
from delivery.selectors import (
    agency_league,
    performance_by_month,
    performance_figures,
    performance_periods,
)
from delivery.services import delivery_record
from delivery.tasks import figures_precompute_task
from tests.delivery.conftest import wib
from tests.notifications.faults import manage
from tests.registry import make_published, make_service

DELIVERIES = "delivery_servicedelivery"


@pytest.fixture
def min_sample(settings: Any) -> None:
    settings.MAKLUMAT = {**settings.MAKLUMAT, "MIN_SAMPLE": 3}


def _record(service: Any, count: int, *, late: int = 0, prefix: str = "R") -> None:
    start = timezone.now() - dt.timedelta(days=40)
    for n in range(count):
        done = timezone.now() - dt.timedelta(days=1) if n < late else start + dt.timedelta(hours=1)
        delivery_record(
            service=service, reference=f"{prefix}{n}", submitted_at=start, completed_at=done
        )
    # One still open and past its due date.
    delivery_record(service=service, reference=f"{prefix}-open", submitted_at=start)


@pytest.fixture
def world(service_a: Any, agency_b: Any, unit_b: Any, min_sample: None) -> Any:
    _record(service_a, 5, late=2)
    other = make_service(agency_b, unit_b, name="Lain", slug="lain")
    make_published(other, published_at=wib(2025, 1, 2))
    _record(other, 2, prefix="B")
    return service_a


def _live(**scope: Any) -> figures.PanelFigures:
    since, until = figures.last_year()
    return figures.PanelFigures(
        until=until,
        figures=performance_figures(**scope, since=since, until=until, use_cache=False),
        periods=performance_periods(**scope, until=until, use_cache=False),
        months=performance_by_month(**scope, until=until),
        computed_at=timezone.now(),
    )


def _queries_on_deliveries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if DELIVERIES in q["sql"]]


def test_the_task_computes_and_stores_every_scope_as_the_live_figures(world, agency_b, unit_b):
    service = world
    written = figures_precompute_task.apply().get()
    assert written["service"] == 2 and written["unit"] == 2 and written["agency"] == 2
    assert written["league"] == 2
    for kind, obj in (
        ("service", service),
        ("unit", service.unit),
        ("agency", service.agency),
        ("unit", unit_b),
        ("agency", agency_b),
    ):
        stored = cache.get(figures.panel_key(kind, obj.pk))
        assert isinstance(stored, figures.PanelFigures), (kind, obj)
        assert stored == _live(**{kind: obj}), (kind, obj)
    panel = cache.get(figures.panel_key("service", service.pk))
    assert (panel.figures.completed, panel.figures.on_time, panel.figures.open) == (5, 3, 1)
    assert panel.figures.open_overdue == 1 and panel.figures.promise_value is not None
    assert panel.figures.median_days is not None
    league = cache.get(figures.LEAGUE_KEY)
    since, until = figures.last_year()
    assert league.rates == {r.agency_id: r for r in agency_league(since=since, until=until)}


def test_a_page_after_the_task_shows_those_figures_without_computing_them(client, world):
    url = world.get_absolute_url()
    with CaptureQueriesContext(connection) as live:
        assert client.get(url).status_code == 200
    assert _queries_on_deliveries(live)  # never computed: the page computes its scope once
    cache.clear()
    figures.figures_precompute()
    computed_at = cache.get(figures.panel_key("service", world.pk)).computed_at
    with CaptureQueriesContext(connection) as ahead:
        response = client.get(url)
    assert response.status_code == 200
    assert _queries_on_deliveries(ahead) == []
    assert len(ahead) < len(live)
    body = response.content.decode()
    assert "performance-as-of" in body
    shown = timezone.localtime(computed_at).strftime("%H:%M")
    assert shown in body.split("performance-as-of", 1)[1][:200]
    assert "3 dari 5" in body or "3 of 5" in body


def test_unit_and_agency_pages_after_the_task_compute_no_figures(client, world):
    figures.figures_precompute()
    for url in (world.unit.get_absolute_url(), world.agency.get_absolute_url()):
        client.get(url)  # other caches warm
        figures.figures_precompute()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert _queries_on_deliveries(queries) == [], url


def test_the_page_reads_no_more_with_more_data(client, service_a, min_sample):
    """Query count flat in the data: the figures come whole from the snapshot."""
    url = service_a.get_absolute_url()
    counts = []
    for size, prefix in ((2, "S"), (12, "L")):
        _record(service_a, size, prefix=prefix)
        figures.figures_precompute()
        client.get(url)  # the page's other caches (the standard's body) warm
        figures.figures_precompute()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert _queries_on_deliveries(queries) == []
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_never_computed_is_computed_once_then_read(world):
    with CaptureQueriesContext(connection) as first:
        panel = figures.panel_figures(service=world)
    assert _queries_on_deliveries(first)
    assert panel == _live(service=world)
    with CaptureQueriesContext(connection) as second:
        assert figures.panel_figures(service=world) == panel
    assert len(second) == 0


def test_figures_of_another_day_are_not_shown(world):
    figures.figures_precompute()
    key = figures.panel_key("service", world.pk)
    old = cache.get(key)
    yesterday = old.until - dt.timedelta(days=1)
    cache.set(key, figures.PanelFigures(yesterday, old.figures, [], [], old.computed_at))
    with CaptureQueriesContext(connection) as queries:
        panel = figures.panel_figures(service=world)
    assert _queries_on_deliveries(queries)  # recomputed for today
    assert panel.until == old.until and panel.months


def test_snapshots_expire_so_a_stopped_schedule_never_freezes_figures(world, settings):
    settings.FIGURES_MAX_AGE_SECONDS = 120
    figures.figures_precompute()
    ttl = getattr(cache, "ttl", None)
    if ttl is not None:  # Redis: the entry carries the maximum age
        assert 0 < ttl(figures.panel_key("service", world.pk)) <= 120


def test_two_runs_at_once_leave_the_work_to_the_first(world):
    assert cache.add(figures.LOCK_KEY, 1, timeout=60)  # a run in progress
    assert figures.figures_precompute() == {}
    assert cache.get(figures.panel_key("service", world.pk)) is None
    cache.delete(figures.LOCK_KEY)
    first = figures.figures_precompute()
    again = figures.figures_precompute()
    assert first == again and first["service"] == 2
    assert cache.get(figures.LOCK_KEY) is None


def test_the_task_is_scheduled_on_the_reports_queue(db):
    task = PeriodicTask.objects.get(task="delivery.report_figures")
    assert task.enabled and (task.interval.every, task.interval.period) == (5, "minutes")
    # The production routes (config/settings.py with MAKLUMAT_CELERY_QUEUES on).
    done = manage(
        "shell",
        "-c",
        "from config.celery import app; "
        "print(app.amqp.router.route({}, 'delivery.report_figures')['queue'].name)",
        env={"MAKLUMAT_CELERY_QUEUES": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "reports"
