"""The breach sweep at national scale, on PostgreSQL: first sweep, incremental sweep, floor.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_sweep.py --history 5000000 --changes 100000

Creates its own database next to the one DATABASE_URL names (and drops it at the end). For
two history sizes, H/10 first and then H (same database, emptied in between), it:

1. generates the history with one `INSERT ... SELECT ... generate_series` (due dates set
   directly in SQL: this measures the sweep, not the due-date engine; ~12% of completed
   deliveries late, some open ones overdue, ~2% overcharged), stamped before the first sweep;
2. runs and times the first full sweep (`oversight.sweep.sweep(now=...)`);
3. adds K new deliveries stamped after that sweep's watermark (the same K rows for both
   history sizes: same random seed; completed over the last month, some late), and times
   the incremental sweep, with a breakdown per rule;
4. times a hand-written single `INSERT ... SELECT` of the same late rows into a scratch
   table shaped like the breach table (its indexes and foreign keys too): the floor.

It prints the times and the ratios the issue sets: incremental sweep over H against over
H/10 (cost must not grow with history: target <= 1.3x) and against the floor (target <= 2x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import build_world, own_database, timed, vacuum  # noqa: E402

DELIVERY = "delivery_servicedelivery"
INSERT_COLUMNS = (
    "agency_id, unit_id, service_id, version_id, calendar_id, reference, tracking_code, "
    "channel, status, submitted_at, file_complete_at, clock_started_at, clock_start_date, "
    "completed_at, outcome, refusal_reason, fee_charged, promise_value, promise_unit, "
    "promised_cost, paused_working_days, paused_minutes, due_date, due_at, extension_reason, "
    "working_days_taken, created_at, updated_at"
)

# One row per i in [first, last]: a service by i, a submission time in the window, a completion
# time from 0 to 1.5x the promise (so about a quarter of completed rows are late), an
# overcharge on ~2%. `stamp` is when the row was written (created_at = updated_at).
GENERATE_SQL = f"""
INSERT INTO {DELIVERY} ({INSERT_COLUMNS})
SELECT s.agency_id, s.unit_id, s.service_id, s.version_id, %(calendar)s, %(prefix)s || x.i,
       %(prefix)s || x.i, 'counter',
       CASE WHEN x.completed IS NULL THEN 'open' ELSE 'completed' END,
       x.submitted, x.submitted, x.submitted, (x.submitted AT TIME ZONE 'Asia/Jakarta')::date,
       x.completed, CASE WHEN x.completed IS NULL THEN '' ELSE 'granted' END, '',
       s.cost + CASE WHEN x.r3 < 0.02 THEN 50000 ELSE 0 END, s.value, 'calendar_days', s.cost,
       0, 0, (x.due AT TIME ZONE 'Asia/Jakarta')::date, x.due, '',
       CASE WHEN x.completed IS NULL THEN NULL
            ELSE (x.completed::date - x.submitted::date) END,
       x.stamp, x.stamp
FROM (
    SELECT y.*, CASE WHEN y.done <= %(now)s THEN y.done END AS completed,
           LEAST(GREATEST(COALESCE(CASE WHEN y.done <= %(now)s THEN y.done END, y.submitted),
                          %(stamp_from)s), %(stamp_to)s)
             + (y.r4 * (%(stamp_spread)s)::interval) AS stamp
    FROM (
        SELECT z.*, z.submitted + s2.value * interval '1 day' AS due,
               CASE WHEN z.r1 < 0.9
                    THEN z.submitted + (z.r2 * 1.5 * s2.value + 0.05) * interval '1 day' END AS done
        FROM (
            SELECT i, i %% %(nsvc)s AS n,
                   %(now)s - (%(min_age)s + random() * %(span)s) * interval '1 day' AS submitted,
                   random() AS r1, random() AS r2, random() AS r3, random() AS r4
            FROM generate_series(%(first)s, %(last)s) AS i
        ) z JOIN bench_svc s2 ON s2.n = z.n
    ) y
) x JOIN bench_svc s ON s.n = x.n
"""

FLOOR_SQL = f"""
INSERT INTO bench_floor (kind, subject_type, subject_id, period, agency_id, unit_id, service_id,
    version_id, delivery_id, measured_value, promised_value, value_unit, severity, occurred_at,
    detected_at, status, suggested_category, decided_category)
SELECT 'late_delivery', 'delivery', d.id, '', d.agency_id, d.unit_id, d.service_id,
       d.version_id, d.id, d.working_days_taken, d.promise_value, d.promise_unit, 'overdue',
       d.due_at, %s, 'open', 'penundaan_berlarut', ''
FROM {DELIVERY} d
WHERE d.status = 'completed' AND d.due_at IS NOT NULL AND d.completed_at > d.due_at
  AND d.updated_at >= %s
"""


def execute(sql: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def scalar(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def generate(
    *, first: int, last: int, prefix: str, now: dt.datetime, min_age: float, span: float,
    stamp_from: dt.datetime, stamp_to: dt.datetime, stamp_spread: str, calendar: int, nsvc: int,
    seed: float,
) -> int:  # fmt: skip
    execute("SELECT setseed(%s)", [seed])
    return execute(
        GENERATE_SQL,
        {
            "first": first,
            "last": last,
            "prefix": prefix,
            "now": now,
            "min_age": min_age,
            "span": span,
            "stamp_from": stamp_from,
            "stamp_to": stamp_to,
            "stamp_spread": stamp_spread,
            "calendar": calendar,
            "nsvc": nsvc,
        },
    )


class RuleTimer:
    """Wraps oversight.sweep._run_rule to record each rule's time (instrumentation only)."""

    def __init__(self) -> None:
        import oversight.sweep as sweep_module

        self.module = sweep_module
        self.original: Callable[..., tuple[int, int]] = sweep_module._run_rule
        self.times: dict[str, float] = {}

    def __enter__(self) -> RuleTimer:
        def timed_rule(rule: Any, ctx: Any, run: Any) -> tuple[int, int]:
            start = time.perf_counter()
            try:
                return self.original(rule, ctx, run)
            finally:
                self.times[str(rule.kind)] = time.perf_counter() - start

        self.module._run_rule = timed_rule  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.module._run_rule = self.original  # type: ignore[assignment]


def one_history(
    history: int, changes: int, calendar_id: int, nsvc: int, now1: dt.datetime
) -> dict[str, Any]:
    from django.db import connection

    from oversight.sweep import sweep

    now0 = now1 - dt.timedelta(hours=2)  # the first sweep's watermark
    from delivery.partitions import truncate_sql

    # Deliveries first: their claims and the rows pointing into them (no database foreign
    # key leads a CASCADE there any more), then the sweep's own tables and the breach claims.
    execute(truncate_sql())
    execute(
        "TRUNCATE oversight_breach, oversight_breachclaim, oversight_sweeprun, "
        "notifications_notification CASCADE"
    )
    t_gen = timed(
        lambda: generate(
            first=1, last=history, prefix="H", now=now0 - dt.timedelta(days=1), min_age=1,
            span=365 * 3, stamp_from=now0 - dt.timedelta(days=365 * 3),
            stamp_to=now0 - dt.timedelta(days=1), stamp_spread="1 hour", calendar=calendar_id,
            nsvc=nsvc, seed=0.25,
        )
    )[0]  # fmt: skip
    vacuum(DELIVERY)
    t_first, first = timed(lambda: sweep(now=now0))
    # K new deliveries, written between the two sweeps; completed over the last month.
    generate(
        first=history + 1, last=history + changes, prefix="N", now=now1, min_age=2, span=30,
        stamp_from=now0 + dt.timedelta(minutes=1), stamp_to=now0 + dt.timedelta(minutes=1),
        stamp_spread="1 hour", calendar=calendar_id, nsvc=nsvc, seed=0.75,
    )  # fmt: skip
    vacuum(DELIVERY, "oversight_breach", "notifications_notification")
    since = now0 - dt.timedelta(minutes=5)
    late_new = scalar(
        f"SELECT count(*) FROM {DELIVERY} WHERE status = 'completed' AND completed_at > due_at "
        "AND updated_at >= %s",
        [since],
    )
    with RuleTimer() as rules:
        t_incr, incr = timed(lambda: sweep(now=now1))
    # The floor: the same late rows, one INSERT ... SELECT, into a table shaped like Breach
    # (its columns, indexes and constraints)...
    execute("DROP TABLE IF EXISTS bench_floor")
    execute("CREATE TABLE bench_floor (LIKE oversight_breach INCLUDING ALL)")
    # ... and its foreign keys (deferred, checked at commit, as on the real table).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'oversight_breach'::regclass AND contype = 'f'"
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_floor ADD CONSTRAINT floor_{name} {definition}")
    floor_times = []
    for _ in range(2):
        execute("TRUNCATE bench_floor")
        t, n = timed(lambda: execute(FLOOR_SQL, [now1, since]))
        floor_times.append(t)
    assert n == late_new, (n, late_new)
    execute("DROP TABLE bench_floor")
    return {
        "history": history,
        "generate": t_gen,
        "first": t_first,
        "first_created": sum(first.created.values()),
        "first_examined": first.run.examined,
        "incremental": t_incr,
        "incr_created": dict(incr.created),
        "incr_examined": incr.run.examined,
        "rules": rules.times,
        "late_new": late_new,
        "floor": min(floor_times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", type=int, default=500_000, help="historical deliveries (H)")
    parser.add_argument("--changes", type=int, default=100_000, help="new deliveries (K)")
    parser.add_argument("--agencies", type=int, default=20, help="agencies of 5 services each")
    report.add_argument(parser)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_sweep needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
        return 2
    with own_database(url) as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MAKLUMAT_TESTING", "1")
        os.environ["DEBUG"] = "0"
        os.environ.setdefault("CACHE_URL", "locmemcache://bench")
        import django

        django.setup()
        return run(args)


def run(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    now1 = timezone.now()
    calendar, services = build_world(args.agencies, now1)
    execute("CREATE TABLE bench_svc (n int PRIMARY KEY, agency_id int, unit_id int, "
            "service_id int, version_id int, value int, cost bigint)")  # fmt: skip
    for n, s in enumerate(services):
        execute(
            "INSERT INTO bench_svc VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [n, s.agency_id, s.unit_id, s.service_id, s.version_id, s.value, s.cost],
        )
    results = []
    for history in (args.history // 10, args.history):
        print(f"  history {history:,} + {args.changes:,} new deliveries ...", flush=True)
        r = one_history(history, args.changes, calendar.pk, len(services), now1)
        print(
            f"    generated in {r['generate']:.1f}s; first sweep {r['first']:.1f}s; "
            f"incremental {r['incremental']:.2f}s; floor {r['floor']:.2f}s"
        )
        results.append(r)
    small, big = results
    print()
    print(
        f"(first) full first sweep over {big['history']:,} deliveries: {big['first']:8.2f}s "
        f"({big['first_created']:,} breaches, {big['first_examined']:,} rows examined)"
    )
    print(
        f"        (over {small['history']:,}: {small['first']:.2f}s, "
        f"{small['first_created']:,} breaches)"
    )
    print(f"(incr)  incremental sweep after {args.changes:,} new deliveries "
          f"({big['late_new']:,} of them late)")  # fmt: skip
    for r in (small, big):
        created = ", ".join(f"{k} {v:,}" for k, v in r["incr_created"].items() if v)
        print(
            f"        over {r['history']:>10,} history: {r['incremental']:8.2f}s "
            f"({r['incr_examined']:,} rows examined; created: {created})"
        )
    print(
        f"(a)     ratio history {big['history']:,} / {small['history']:,}: "
        f"{big['incremental'] / small['incremental']:6.2f}x (target <= 1.3x)"
    )
    print(
        f"(b)     floor, one INSERT ... SELECT of the {big['late_new']:,} late rows: "
        f"{big['floor']:.2f}s; whole sweep (8 rules) / floor: "
        f"{big['incremental'] / big['floor']:6.1f}x (target <= 2x)"
    )
    late = big["rules"].get("late_delivery", 0.0)
    print(
        f"        like for like, the late-delivery rule (its breaches and their outbox rows) "
        f"/ floor: {late / big['floor']:6.1f}x"
    )
    print("        time per rule in the incremental sweep (history "
          f"{small['history']:,} / {big['history']:,}):")  # fmt: skip
    for kind in big["rules"]:
        print(f"          {kind:22} {small['rules'].get(kind, 0):8.2f}s {big['rules'][kind]:8.2f}s")
    rest_small = small["incremental"] - sum(small["rules"].values())
    rest_big = big["incremental"] - sum(big["rules"].values())
    print(f"          {'(count, resolve, run)':22} {rest_small:8.2f}s {rest_big:8.2f}s")
    report.save(
        "sweep",
        args.json,
        args,
        {
            "history_small": small["history"],
            "history_big": big["history"],
            "changes": args.changes,
            "incremental_small_s": small["incremental"],
            "incremental_big_s": big["incremental"],
            "history_ratio": big["incremental"] / small["incremental"],
            "floor_s": big["floor"],
            "floor_ratio": big["incremental"] / big["floor"],
            "first_s": big["first"],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
