"""Breaches partitioned by month on PostgreSQL (core/partitioning.py, oversight/partitions.py):
the shape, "one breach per fact" across months, the months ahead (also two makers at once),
rows moved out of the DEFAULT partition, a month detached for archive and attached back, and
the plans of windowed queries touching only their months."""

from __future__ import annotations

import datetime as dt
import re
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from core.partitioning import (
    add_months,
    attach,
    default_name,
    detach,
    ensure_partitions,
    is_partitioned,
    partition_name,
    partitions,
)
from oversight.models import Breach, BreachClaim, BreachEvent
from oversight.partitions import BREACHES, PARTITIONED, create_partitions
from oversight.sweep import sweep
from tests import factories
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

TABLE = BREACHES.table
JAN = dt.date(2026, 1, 1)  # the month of BreachFactory's late delivery (occurred in January)
SWEPT = dt.datetime(2026, 2, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def service(agency_a, unit_a, national):
    # January 2026 starts without its partition (its rows in the DEFAULT one), whatever
    # earlier tests did (the migration tests convert a table holding January rows); the
    # test's transaction puts it back.
    _drop([partition_name(TABLE, JAN)])
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    return service


def _breach(service: Any, reference: str = "late-1") -> Breach:
    """A late-delivery breach of January 2026, found by the real sweep."""
    return factories.BreachFactory.create(service=service, reference=reference)


def _where(breach_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [breach_id])
        row = cursor.fetchone()
    return row[0] if row else ""


def _copy(breach: Breach, **changes: Any) -> Breach:
    """A new row with the breach's values (a plain ORM insert, as a hand-written one)."""
    values = model_to_dict(breach, exclude=["id"])
    for name in ("agency", "unit", "service", "version", "delivery", "assignee"):
        values[f"{name}_id"] = values.pop(name)
    values |= {"occurred_at": breach.occurred_at, "detected_at": breach.detected_at}
    return Breach.objects.create(**(values | changes))


def _drop(names: list[str]) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def test_breaches_are_a_partitioned_table_keyed_by_id_and_month(db):
    assert is_partitioned(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'p'",
            [TABLE],
        )
        assert cursor.fetchone()[0] == ["id", "occurred_at"]
    names = [name for name, _bound in partitions(TABLE)]
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    assert default_name(TABLE) in names
    for ahead in range(4):  # this month and MONTHS_AHEAD ahead, made by the migration
        assert partition_name(TABLE, add_months(this_month, ahead)) in names


def test_a_second_breach_for_the_same_fact_is_refused_whatever_its_month(service):
    breach = _breach(service)
    assert _where(breach.pk) == default_name(TABLE)  # January 2026: older than the partitions
    assert BreachClaim.objects.count() == 1
    for occurred_at in (breach.occurred_at, dt.datetime.now(dt.UTC)):  # same month, another
        with pytest.raises(IntegrityError, match="breach_unique_fact"), transaction.atomic():
            _copy(breach, occurred_at=occurred_at)
    # Another period is another fact.
    other = _copy(breach, period="2026-01", occurred_at=dt.datetime.now(dt.UTC))
    assert _where(other.pk) == partition_name(TABLE, dt.datetime.now(dt.UTC).date().replace(day=1))
    assert BreachClaim.objects.count() == 2


def test_the_sweep_skips_a_fact_already_recorded_in_another_month(service):
    breach = _breach(service)
    Breach.objects.filter(pk=breach.pk).update(occurred_at=dt.datetime.now(dt.UTC))
    assert _where(breach.pk) != default_name(TABLE)  # the row moved to this month
    assert BreachClaim.objects.count() == 1  # ... and kept its one claim
    sweep(now=SWEPT, kinds=["late_delivery"])
    assert Breach.objects.filter(kind="late_delivery").count() == 1
    with pytest.raises(Exception, match="cannot change"), transaction.atomic():
        Breach.objects.filter(pk=breach.pk).update(period="other")


def test_deleting_frees_the_fact_and_django_cascades_without_database_constraints(service):
    breach = _breach(service)
    BreachEvent.objects.create(
        breach=breach, kind="acknowledged", via="system", created_at=dt.datetime.now(dt.UTC)
    )
    delivery = breach.delivery
    assert delivery is not None
    delivery.delete()  # the delivery's breaches, and their events, go with it
    assert not Breach.objects.exists()
    assert not BreachEvent.objects.exists()
    assert not BreachClaim.objects.exists()
    # The fact is free again: a new sweep finds it once more (the delivery recreated).
    again = _breach(service, reference=delivery.reference)
    assert Breach.objects.get() == again


def test_a_month_whose_rows_sit_in_the_default_partition_takes_them(service):
    breach = _breach(service)
    created = ensure_partitions([TABLE], today=JAN, months_ahead=0)
    assert created == [partition_name(TABLE, JAN)]
    assert _where(breach.pk) == partition_name(TABLE, JAN)
    assert BreachClaim.objects.count() == 1  # the move left the claim alone
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy(breach)
    assert ensure_partitions([TABLE], today=JAN, months_ahead=0) == []  # idempotent


def test_off_postgresql_nothing_is_partitioned(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert not is_partitioned(TABLE)
    assert ensure_partitions([TABLE]) == []


@pytest.mark.django_db(transaction=True)
def test_two_partition_makers_at_once_create_each_month_once():
    today = dt.date(2031, 1, 1)
    # Every partitioned table's months (breaches, deliveries, the outbox).
    months = sorted(
        partition_name(table, add_months(today, i)) for table in PARTITIONED for i in range(3)
    )
    assert TABLE in PARTITIONED
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(create_partitions(today=today, months_ahead=2))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert sorted(name for result in results for name in result) == months
    finally:
        _drop(months)


def test_a_month_detached_for_archive_leaves_the_live_table_and_comes_back(service):
    breach = _breach(service)
    ensure_partitions([TABLE], today=JAN, months_ahead=0)
    out = StringIO()
    call_command("partitions", "detach", "--month", "2026-01", stdout=out)
    assert "pg_dump -t oversight_breach_p202601" in out.getvalue()
    assert not Breach.objects.filter(pk=breach.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM oversight_breach_p202601")
        assert cursor.fetchall() == [(breach.pk,)]  # the archive holds the row
    # The claim stays: an archived fact is not found again by the sweep.
    sweep(now=SWEPT, kinds=["late_delivery"])
    assert not Breach.objects.exists()
    call_command("partitions", "attach", "--month", "2026-01", stdout=StringIO())
    assert Breach.objects.get() == breach


def test_a_detach_needs_a_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("partitions", "detach", "--month", "January", stdout=StringIO())
    out = StringIO()
    call_command("partitions", "list", stdout=out)
    assert default_name(TABLE) in out.getvalue()


def _plan(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _scanned(plan: str) -> set[str]:
    """The partitions a plan reads ("... Scan ... on <partition> <alias>")."""
    return set(re.findall(rf"\bon ({TABLE}_p(?:\d{{6}}|default))\b", plan))


def test_a_window_on_occurred_at_scans_only_its_months(service):
    ensure_partitions([TABLE], today=dt.date(2030, 1, 1), months_ahead=11)
    staff_list = Breach.objects.filter(
        occurred_at__gte=dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
        occurred_at__lt=dt.datetime(2030, 5, 1, tzinfo=dt.UTC),
        status="open",
    )
    sql, params = staff_list.query.sql_with_params()
    assert _scanned(_plan(sql, list(params))) == {
        partition_name(TABLE, dt.date(2030, 3, 1)),
        partition_name(TABLE, dt.date(2030, 4, 1)),
    }
    # Without a window, every month is scanned.
    sql, params = Breach.objects.filter(status="open").query.sql_with_params()
    assert len(_scanned(_plan(sql, list(params)))) >= 12


def test_detach_and_attach_by_function(service):
    ensure_partitions([TABLE], today=JAN, months_ahead=0)
    assert detach(TABLE, JAN) == partition_name(TABLE, JAN)
    assert partition_name(TABLE, JAN) not in dict(partitions(TABLE))
    attach(TABLE, JAN)
    assert partition_name(TABLE, JAN) in dict(partitions(TABLE))


def test_the_months_ahead_are_made_by_a_daily_beat_task(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from oversight.tasks import create_partitions_task

    # (A transactional test's flush may have emptied the migration's row: write it again.)
    migration = importlib.import_module("oversight.migrations.0020_partition_breaches_by_month")
    migration.schedule(apps, None)
    task = PeriodicTask.objects.get(name="Partitions ahead")
    assert (task.task, task.enabled, task.crontab.hour) == (
        "oversight.create_partitions",
        True,
        "1",
    )
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {partition_name(TABLE, add_months(this_month, 3))}")
    assert create_partitions_task.apply().get() == [
        partition_name(TABLE, add_months(this_month, 3))
    ]
    assert create_partitions_task.apply().get() == []


def test_the_desk_plans_its_page_months_and_its_counts_once(agency_a, unit_a):
    """The review desk on many live months: the page's rows are read from their own months
    only (by id and month, not by id alone), and the counts per state plan the desk once
    (one correlated subquery over the states, not one subquery per state)."""
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from oversight.selectors import desk_counts, desk_page
    from tests.oversight.desk_world import desk_breach

    now = timezone.now()
    ensure_partitions([TABLE], today=(now - dt.timedelta(days=420)).date(), months_ahead=15)
    made = [
        desk_breach(agency=agency_a, unit=unit_a, days_ago=days, status="open")
        for days in (400, 300, 200, 100, 40)
    ]
    desk = Breach.objects.filter(on_desk_at__isnull=False)
    with CaptureQueriesContext(connection) as captured:
        page = desk_page(queryset=desk, sort="oldest", size=2)
    assert [b.pk for b in page.rows] == [made[0].pk, made[1].pk]
    fetch = next(q["sql"] for q in captured.captured_queries if '"kind"' in q["sql"])
    months = {partition_name(TABLE, b.occurred_at.date().replace(day=1)) for b in made[:3]}
    # The fetch names the page's rows (the two shown and the one that says "more").
    assert _scanned(_plan(fetch, [])) == months
    sql, params = Breach.objects.filter(status="open").query.sql_with_params()
    assert len(_scanned(_plan(sql, list(params)))) >= 15  # without the months: every one

    with CaptureQueriesContext(connection) as captured:
        counts = desk_counts(queryset=desk)
    assert counts["open"] == 5 and sum(counts.values()) == 5
    (counted,) = captured.captured_queries
    plan = _plan(counted["sql"], [])
    month = partition_name(TABLE, made[0].occurred_at.date().replace(day=1))
    assert len(re.findall(rf"\bon {month}\b", plan)) == 1, plan
