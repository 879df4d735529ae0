"""The service-level rule, run incrementally, flags exactly what a full recount would.

The sweep recounts only the (service, WIB month) pairs touched since its last run that are
not flagged yet (oversight.rules._service_level_miss). These tests check it, step by step on
varied data (month boundaries to the microsecond, a service with few requests, agency
overrides and a switched-off agency, a new published standard, a changed national target),
against a plain Python recount of every delivery, and that two sweeps at once flag a pair once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import pytest
from django.db import connection
from django.utils import timezone

from agencies.calendars import calendar_national
from delivery.models import ServiceDelivery
from notifications.models import Notification
from oversight.models import Breach, BreachRule, SweepRun
from oversight.notices import BREACH_CREATED
from oversight.rules import WIB, month_start
from oversight.sweep import SAFETY_MARGIN, sweep
from tests import factories
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service, republish

KIND = "service_level_miss"
Key = tuple[int, str]  # (service id, period)


class Row(NamedTuple):
    agency_id: int
    unit_id: int
    version_id: int
    completed_at: dt.datetime
    due_at: dt.datetime


_refs = itertools.count()


def _settings() -> tuple[dict[str, Any], dict[int, dict[str, Any]], set[int]]:
    national: dict[str, Any] = {"target_percent": 90, "min_sample": 30}
    per_agency: dict[int, dict[str, Any]] = {}
    inactive: set[int] = set()
    for row in BreachRule.objects.filter(kind=KIND):
        if row.agency_id is None:
            national.update(row.settings or {})
        elif not row.is_active:
            inactive.add(row.agency_id)
        else:
            per_agency[row.agency_id] = row.settings or {}
    return national, per_agency, inactive


def full_recount(now: dt.datetime) -> dict[Key, tuple[Any, ...]]:
    """Every (service, closed month) pair below its target, counted over every delivery."""
    current = timezone.localdate(now).strftime("%Y-%m")
    national, per_agency, inactive = _settings()
    groups: dict[Key, list[Row]] = {}
    for d in ServiceDelivery.objects.filter(status="completed", due_at__isnull=False):
        assert d.completed_at is not None and d.due_at is not None
        period = d.completed_at.astimezone(WIB).strftime("%Y-%m")
        if period < current:
            groups.setdefault((d.service_id, period), []).append(
                Row(d.agency_id, d.unit_id, d.version_id, d.completed_at, d.due_at)
            )
    out: dict[Key, tuple[Any, ...]] = {}
    for key, rows in groups.items():
        agency = max(r.agency_id for r in rows)
        if agency in inactive:
            continue
        values = {**national, **per_agency.get(agency, {})}
        total = len(rows)
        on_time = sum(1 for r in rows if r.completed_at <= r.due_at)
        if total >= values["min_sample"] and 100 * on_time < values["target_percent"] * total:
            rate = (Decimal(100 * on_time) / Decimal(total)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            out[key] = (
                agency,
                max(r.unit_id for r in rows),
                max(r.version_id for r in rows),
                rate,
                Decimal(values["target_percent"]),
                max(r.due_at for r in rows),
            )
    return out


def flagged() -> dict[Key, tuple[Any, ...]]:
    return {
        (b.subject_id, b.period): (
            b.agency_id,
            b.unit_id,
            b.version_id,
            b.measured_value,
            b.promised_value,
            b.occurred_at,
        )
        for b in Breach.objects.filter(kind=KIND)
    }


def touched_pairs(since: dt.datetime, now: dt.datetime) -> set[Key]:
    boundary = month_start(timezone.localdate(now).strftime("%Y-%m"))
    rows = ServiceDelivery.objects.filter(
        status="completed", due_at__isnull=False, updated_at__gte=since
    ).values_list("service_id", "completed_at")
    return {
        (service_id, completed.astimezone(WIB).strftime("%Y-%m"))
        for service_id, completed in rows
        if completed is not None and completed < boundary
    }


def add(service: Any, version: Any, specs: list[tuple[dt.datetime, dt.datetime]], **extra: Any):
    """Completed deliveries (completed_at, due_at), written straight to the table."""
    calendar = calendar_national()
    rows = [
        ServiceDelivery(
            agency_id=service.agency_id,
            unit_id=service.unit_id,
            service=service,
            version=version,
            calendar=calendar,
            reference=f"slm-{next(_refs)}",
            status=extra.get("status", "completed"),
            submitted_at=min(completed, due) - dt.timedelta(days=7),
            completed_at=completed,
            due_at=extra.get("due_override", due),
            promise_value=5,
            promise_unit="working_days",
        )
        for completed, due in specs
    ]
    return ServiceDelivery.objects.bulk_create(rows)


def month_rows(rng: random.Random, year: int, month: int, n: int, late_share: float):
    """n (completed, due) pairs in a WIB month, with the month's edges and exact dues."""
    start = dt.datetime(year, month, 1, tzinfo=WIB)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=WIB)
    out = []
    for i in range(n):
        if i == 0:
            completed = start  # the first instant of the month belongs to it
        elif i == 1:
            completed = end - dt.timedelta(microseconds=1)  # so does the last
        else:
            completed = start + (end - start) * rng.random()
        if rng.random() < late_share:
            due = completed - dt.timedelta(hours=rng.choice([1, 30, 200]))
        else:
            due = completed + rng.choice([dt.timedelta(0), dt.timedelta(hours=5)])  # 0: on time
        out.append((completed, due))
    return out


class World:
    def __init__(self, agency_a: Any, unit_a: Any, agency_b: Any, unit_b: Any) -> None:
        agency_c: Any = factories.AgencyFactory(name="Dinas C", slug="dinas-c")
        unit_c = factories.UnitFactory(agency=agency_c, slug="unit-c")
        self.big = make_service(agency_a, unit_a, name="Layanan besar")
        self.small = make_service(agency_a, unit_a, name="Layanan kecil")
        self.b = make_service(agency_b, unit_b, name="Layanan B")
        self.c = make_service(agency_c, unit_c, name="Layanan C")
        at = wib(2025, 1, 1)
        self.versions = {s.pk: make_published(s, published_at=at) for s in self.services}
        # Agency B: a lower target and a small minimum sample; agency C: the rule is off.
        BreachRule.objects.create(
            kind=KIND, agency=agency_b, settings={"target_percent": 80, "min_sample": 5}
        )
        BreachRule.objects.create(kind=KIND, agency=agency_c, is_active=False)

    @property
    def services(self) -> list[Any]:
        return [self.big, self.small, self.b, self.c]


def stamp(rows: list[ServiceDelivery], at: dt.datetime) -> None:
    ServiceDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(updated_at=at)


def check_step(now: dt.datetime) -> None:
    """Sweep at `now`; the new breaches are exactly the full recount's on the touched pairs."""
    before = flagged()
    last = SweepRun.objects.filter(succeeded=True).order_by("-watermark").first()
    since = last.watermark - SAFETY_MARGIN if last else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    full = full_recount(now)
    touched = touched_pairs(since, now)
    expected = dict(before)
    expected.update({k: v for k, v in full.items() if k in touched and k not in before})
    sweep(now=now)
    assert flagged() == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_steps_flag_what_a_full_recount_flags(seed, agency_a, unit_a, agency_b, unit_b):
    rng = random.Random(seed)
    w = World(agency_a, unit_a, agency_b, unit_b)
    v = w.versions
    t0 = wib(2026, 2, 10, 12)

    # Step 1: three months of history; the small service around the minimum sample.
    rows = []
    for year, month in [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]:
        rows += add(w.big, v[w.big.pk], month_rows(rng, year, month, 40, rng.choice([0.05, 0.2])))
        rows += add(w.small, v[w.small.pk], month_rows(rng, year, month, rng.choice([29, 30]), 0.3))
        rows += add(w.b, v[w.b.pk], month_rows(rng, year, month, 6, rng.choice([0.1, 0.5])))
        rows += add(w.c, v[w.c.pk], month_rows(rng, year, month, 40, 0.5))
    # Rows the rule must not count: open, and completed without a due date.
    add(w.big, v[w.big.pk], [(wib(2026, 1, 10), wib(2026, 1, 9))], status="open")
    add(w.big, v[w.big.pk], [(wib(2026, 1, 10), wib(2026, 1, 9))], due_override=None)
    stamp(rows, t0 - dt.timedelta(days=1))
    check_step(t0)

    # Step 2: late rows land in closed months (one exactly on a month's first instant, one on
    # the last microsecond of the month before), and in the current month (not counted yet).
    t1 = t0 + dt.timedelta(days=1)
    edge = dt.datetime(2026, 1, 1, tzinfo=WIB)
    new = add(w.big, v[w.big.pk], [(edge, edge - dt.timedelta(hours=2))] * rng.randint(1, 8))
    new += add(
        w.small,
        v[w.small.pk],
        [(edge - dt.timedelta(microseconds=1), edge - dt.timedelta(days=1))] * rng.randint(1, 3),
    )
    new += add(w.b, v[w.b.pk], month_rows(rng, 2026, 2, 10, 0.6))
    stamp(new, t0 + dt.timedelta(hours=1))
    check_step(t1)

    # Step 3: a new standard is published for the big service; its late requests carry the
    # new version; the national target is raised; some completion times are corrected into
    # another month (the pair they leave is not recounted: it was not touched).
    t2 = t1 + dt.timedelta(days=1)
    newer = republish(v[w.big.pk], processing_time_value=3)
    assert newer.pk > v[w.big.pk].pk
    new = add(w.big, newer, month_rows(rng, 2025, 12, rng.randint(3, 12), 0.9))
    BreachRule.objects.create(kind=KIND, agency=None, settings={"target_percent": 95})
    moved = list(ServiceDelivery.objects.filter(service=w.small).order_by("pk")[:5])
    for d in moved:
        d.completed_at = dt.datetime(2025, 12, 15, tzinfo=WIB)  # from November
        d.submitted_at = d.completed_at - dt.timedelta(days=7)
        d.due_at = d.completed_at - dt.timedelta(hours=1)
    ServiceDelivery.objects.bulk_update(moved, ["completed_at", "submitted_at", "due_at"])
    stamp([*new, *moved], t1 + dt.timedelta(hours=1))
    check_step(t2)

    # Step 4: the month turns: February closes and is counted.
    t3 = wib(2026, 3, 2, 8)
    touch = list(ServiceDelivery.objects.filter(service__in=[w.b, w.big]).order_by("-pk")[:3])
    stamp(touch, t2 + dt.timedelta(hours=1))
    check_step(t3)

    # A full recount from scratch gives exactly the full recount's breaches.
    Breach.objects.filter(kind=KIND).delete()
    SweepRun.objects.all().delete()
    sweep(now=t3 + dt.timedelta(hours=1))
    assert flagged() == full_recount(t3 + dt.timedelta(hours=1))
    assert flagged()  # the data do produce breaches: the comparison is not vacuous


def test_a_pair_already_flagged_is_left_as_it_is(agency_a, unit_a, agency_b, unit_b):
    w = World(agency_a, unit_a, agency_b, unit_b)
    rng = random.Random(7)
    rows = add(w.b, w.versions[w.b.pk], month_rows(rng, 2026, 1, 10, 1.0))
    stamp(rows, wib(2026, 2, 1))
    sweep(now=wib(2026, 2, 2))
    first = flagged()
    assert list(first) == [(w.b.pk, "2026-01")]
    # More requests in the same month, all on time: the rate changes, the breach does not
    # (the INSERT would skip it; the sweep does not even recount it).
    more = add(w.b, w.versions[w.b.pk], [(wib(2026, 1, 20), wib(2026, 1, 21))] * 30)
    stamp(more, wib(2026, 2, 2, 12))
    sweep(now=wib(2026, 2, 3))
    assert flagged() == first


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_flag_a_service_month_once(agency_a, unit_a):
    service = make_service(agency_a, unit_a)
    version = make_published(service, published_at=wib(2025, 6, 1))
    rows = add(service, version, month_rows(random.Random(3), 2026, 1, 40, 0.5))
    stamp(rows, wib(2026, 2, 1))
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            sweep(now=wib(2026, 2, 2))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a sweep did not finish"
    assert not errors, errors
    breach = Breach.objects.get(kind=KIND)
    assert (breach.subject_id, breach.period) == (service.pk, "2026-01")
    assert Notification.objects.filter(subject_id=breach.pk, event=BREACH_CREATED).count() == 1
