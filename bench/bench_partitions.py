"""Breaches partitioned by month (core/partitioning.py): the plans, and the write cost.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_partitions.py --breaches 300000 --months 24

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
migrates it (which partitions `oversight_breach` by month of `occurred_at`), creates the
month partitions of the last `--months` months (the daily task would have), builds the
review-desk benchmark's world and generates `--breaches` breaches over those months with
one `INSERT ... SELECT generate_series` (bench_review_queue.py's), through the claim
trigger that keeps "one breach per fact" across months. Then:

- **plans**: `EXPLAIN ANALYZE` of the agencies' breach list over one month (a window on
  `occurred_at`), of the review desk's first page in `occurred_at` order (ordered append:
  the months after the page are never executed), and of the sweep's resolution step for
  late deliveries (found by delivery: every month's index probed; no time window to prune
  on). Printed, with the partitions each one scanned.
- **write cost**: the same generated rows inserted into a plain, unpartitioned copy of the
  table with the old unique constraint and no trigger, timed against the partitioned
  insert with its claims in the same run (ratio, the sweep's write path).

The due-date recompute after a holiday concerns deliveries, which are not partitioned
(docs/scaling.md, "Partitioning by month"): not measured here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import own_database, timed, vacuum  # noqa: E402
from bench_review_queue import GENERATE_SQL, KINDS, REVIEWERS, build_world, execute  # noqa: E402

TABLE = "oversight_breach"


def plan(sql: str, params: Any = None) -> tuple[str, list[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    scanned = {
        match
        for line in text.splitlines()
        if "never executed" not in line
        for match in re.findall(rf"\bon ({TABLE}_p(?:\d{{6}}|default))\b", line)
    }
    return text, sorted(scanned)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--breaches", type=int, default=300_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--agencies", type=int, default=100)
    report.add_argument(parser)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_partitions needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
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
    from django.db.models import Q
    from django.utils import timezone

    from core.partitioning import add_months, ensure_partitions, partitions
    from oversight.models import Breach

    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, load {os.getloadavg()}"
    )
    call_command("migrate", verbosity=0)
    now = timezone.now()
    first = add_months(now.date().replace(day=1), -args.months)
    ensure_partitions([TABLE], today=first, months_ahead=args.months + 3)
    print(f"  {len(partitions(TABLE))} partitions (with the DEFAULT one)")
    _reviewers, sizes = build_world(args.agencies)
    nsvc = sizes["services"]
    days = args.months * 30
    generate = GENERATE_SQL.replace("interval '730 days'", f"interval '{days} days'")
    params = {"n": args.breaches, "desk": 0.3, "now": now, "nsvc": nsvc}
    params |= {"nkind": len(KINDS), "nrev": REVIEWERS}
    partitioned_s, rows = timed(lambda: execute(generate, params))
    print(f"  {rows:,} breaches into the partitioned table (claims kept): {partitioned_s:.1f}s")
    # The same rows into a plain copy with the old unique constraint, no trigger.
    execute(f"CREATE TABLE bench_plain (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
    execute(
        "ALTER TABLE bench_plain ADD PRIMARY KEY (id), "
        "ADD UNIQUE (kind, subject_type, subject_id, period)"
    )
    plain_sql = generate.replace(f"INSERT INTO {TABLE} ", "INSERT INTO bench_plain ", 1)
    plain_s, _ = timed(lambda: execute(plain_sql, params))
    print(f"  the same into a plain table: {plain_s:.1f}s; ratio {partitioned_s / plain_s:.2f}x")
    vacuum(TABLE, "oversight_breachclaim", "bench_plain")

    month = add_months(now.date().replace(day=1), -2)
    low = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
    high = dt.datetime.combine(add_months(month, 1), dt.time(), tzinfo=dt.UTC)
    agency_id = Breach.objects.values_list("agency_id", flat=True).first()
    window = Breach.objects.filter(
        agency_id=agency_id, occurred_at__gte=low, occurred_at__lt=high
    ).order_by("-occurred_at", "-pk")[:50]
    desk_ids = (
        Breach.objects.filter(on_desk_at__isnull=False, status="open")
        .order_by("occurred_at", "pk")
        .values("pk")[:51]
    )
    since = now - dt.timedelta(minutes=5)
    resolve = Breach.objects.filter(
        Q(status="open", kind="late_delivery", delivery__updated_at__gte=since)
    ).values("pk")
    figures: dict[str, Any] = {
        "breaches": rows,
        "partitions": len(partitions(TABLE)),
        "insert_partitioned_s": round(partitioned_s, 2),
        "insert_plain_s": round(plain_s, 2),
        "insert_ratio": round(partitioned_s / plain_s, 2),
    }
    for label, queryset in [
        ("breach list, one month window", window),
        ("review desk, first page (oldest first)", desk_ids),
        ("sweep, late-delivery resolution", resolve),
    ]:
        sql, qparams = queryset.query.sql_with_params()
        text, scanned = plan(sql, list(qparams))
        key = label.split(",")[0].replace(" ", "_")
        figures[f"{key}_partitions_scanned"] = len(scanned)
        print(f"\n== {label}: {len(scanned)} partitions scanned of {figures['partitions']}")
        print(text)
    print(f"\nload average {os.getloadavg()}")
    report.save("partitions", args.json, args, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
