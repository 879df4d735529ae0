"""The ombudsman's review desk at national scale, on PostgreSQL: filtered, sorted pages.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_review_queue.py --breaches 1000000 --agencies 500

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
migrates it, builds `--agencies` agencies (in the 34 provinces, two units and four
services each) and 20 ombudsman reviewers, then generates `--breaches` breaches with one
`INSERT ... SELECT generate_series` (a share `--desk` of them on the review desk: mostly
escalated, some disputed, some pulled in; some assigned), and their escalation rows with
another. For each scenario (a filtered, sorted view of the desk, as a reviewer would open
it) it times, for the first page and for page 50 (reached by its keyset cursor, as the
page's "next" links would):

- **selector**: the desk's FilterSet, `desk_page` and `desk_counts` alone;
- **ours**: the server's work for the page: the desk's FilterSet, `desk_page` and
  `desk_counts` (oversight/selectors.py) and the template rendered (the view's
  `_queue_page`, with a reviewer's request; no middleware, no network);
- **floor**: a plain, hand-written indexed `SELECT` of the same 50 rows (same filters,
  same order, same keyset bound) over the same tables.

Each figure is the median of `--repeat` runs after one warm-up. Target: ours < 100 ms;
the ratio says what the page costs over the bare read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import own_database, timed, vacuum  # noqa: E402

PROVINCES = [
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35",
    "36", "51", "52", "53", "61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76",
    "81", "82", "91", "94",
]  # fmt: skip
KINDS = ["late_delivery", "overdue_open", "overcharge", "at_risk", "service_level_miss"]
CATEGORY_OF_KIND = {
    "late_delivery": "undue_delay",
    "overdue_open": "undue_delay",
    "overcharge": "illegal_charge",
    "at_risk": "",
    "service_level_miss": "undue_delay",
}
REVIEWERS = 20
PAGE = 50

# One breach per i: a service by i, a kind, an age up to two years, a status (about a
# fifth closed), on the desk with probability `desk` (then assigned to a reviewer for 40%).
GENERATE_SQL = """
INSERT INTO oversight_breach (kind, subject_type, subject_id, period, agency_id, unit_id,
    service_id, value_unit, severity, occurred_at, detected_at, status, suggested_category,
    decided_category, on_desk_at, assignee_id)
SELECT k.kind, 'delivery', x.i, '', s.agency_id, s.unit_id, s.service_id, '', 'overdue',
       x.occurred, x.occurred + interval '1 day',
       CASE WHEN x.r2 < 0.55 THEN 'open' WHEN x.r2 < 0.70 THEN 'acknowledged'
            WHEN x.r2 < 0.80 THEN 'explained' WHEN x.r2 < 0.88 THEN 'confirmed'
            WHEN x.r2 < 0.95 THEN 'dismissed' ELSE 'resolved' END,
       k.category, '',
       CASE WHEN x.r1 < %(desk)s
            THEN LEAST(x.occurred + interval '20 days', %(now)s) END,
       CASE WHEN x.r1 < %(desk)s AND x.r3 < 0.4
            THEN (SELECT id FROM bench_reviewer r
                  WHERE r.n = floor(x.r3 * 1000)::int %% %(nrev)s) END
FROM (
    SELECT i, random() AS r1, random() AS r2, random() AS r3,
           %(now)s - random() * %(days)s * interval '1 day' AS occurred
    FROM generate_series(1, %(n)s) AS i
) x
JOIN bench_svc s ON s.n = x.i %% %(nsvc)s
JOIN bench_kind k ON k.n = (x.i / %(nsvc)s) %% %(nkind)s
"""

# The ladder's rows: every desk breach but the pulled-in ones (5%) has one (10% disputed,
# the rest escalated to the top); a third of the others sit lower on the ladder.
ESCALATION_SQL = """
INSERT INTO oversight_breachescalation (breach_id, level, escalated_at, acknowledged_at,
    disputed_at)
SELECT b.id,
       CASE WHEN b.on_desk_at IS NULL THEN 1 + b.id %% 2
            WHEN b.id %% 20 < 2 THEN 1 ELSE 3 END,
       b.detected_at + interval '5 days', NULL,
       CASE WHEN b.on_desk_at IS NOT NULL AND b.id %% 20 < 2 THEN b.on_desk_at END
FROM oversight_breach b
WHERE (b.on_desk_at IS NOT NULL AND b.id %% 20 <> 19)
   OR (b.on_desk_at IS NULL AND b.id %% 3 = 0)
"""

CLOSED = ("dismissed", "confirmed", "resolved", "out_of_authority")


def execute(sql: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def build_world(agencies: int) -> tuple[list[Any], dict[str, int]]:
    """Agencies, units, services (bulk, a few thousand rows) and the reviewers."""
    from accounts.models import User
    from agencies.models import Agency, Membership, Role, Unit
    from services.models import Service

    Agency.objects.bulk_create(
        Agency(
            name=f"Dinas Bench {a:03d}",
            slug=f"bench-{a}",
            level="city",
            region_code=f"{PROVINCES[a % len(PROVINCES)]}.{a // len(PROVINCES) + 1:02d}",
            region_name=f"Kota Bench {a}",
        )
        for a in range(agencies)
    )
    agency_rows = list(Agency.objects.order_by("pk"))
    Unit.objects.bulk_create(
        Unit(agency=agency, name=f"Unit {agency.pk}-{u}", slug=f"unit-{u}")
        for agency in agency_rows
        for u in range(2)
    )
    units = list(Unit.objects.order_by("pk"))
    Service.objects.bulk_create(
        Service(
            agency_id=unit.agency_id,
            unit=unit,
            name=f"Layanan {unit.pk}-{s}",
            slug=f"l-{unit.pk}-{s}",
        )
        for unit in units
        for s in range(2)
    )
    execute("CREATE TABLE bench_svc (n int PRIMARY KEY, agency_id bigint, unit_id bigint, "
            "service_id bigint)")  # fmt: skip
    execute(
        "INSERT INTO bench_svc SELECT row_number() OVER (ORDER BY id) - 1, agency_id, unit_id, "
        "id FROM services_service"
    )
    execute("CREATE TABLE bench_kind (n int PRIMARY KEY, kind text, category text)")
    for n, kind in enumerate(KINDS):
        execute("INSERT INTO bench_kind VALUES (%s, %s, %s)", [n, kind, CATEGORY_OF_KIND[kind]])
    reviewers = []
    for r in range(REVIEWERS):
        user = User.objects.create_user(username=f"reviewer{r}", password=None)
        Membership.objects.create(user=user, agency=None, role=Role.OMBUDSMAN)
        reviewers.append(user)
    execute("CREATE TABLE bench_reviewer (n int PRIMARY KEY, id bigint)")
    for n, user in enumerate(reviewers):
        execute("INSERT INTO bench_reviewer VALUES (%s, %s)", [n, user.pk])
    return reviewers, {"services": Service.objects.count(), "units": len(units)}


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up (plans, template cache)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class Scenario:
    """A view of the desk: its query string, and the same filters in plain SQL."""

    def __init__(self, label: str, query: dict[str, str], where: str, params: list[Any]) -> None:
        self.label, self.query, self.where, self.params = label, query, where, params

    @property
    def sort(self) -> str:
        return self.query.get("sort", "oldest")


def floor_sql(scenario: Scenario, cursor: tuple[Any, int] | None) -> tuple[str, list[Any]]:
    """The plain indexed SELECT of one page: the rows and the columns the page shows."""
    field, desc = {
        "oldest": ("occurred_at", False),
        "newest": ("occurred_at", True),
        "waiting": ("on_desk_at", False),
        "arrived": ("on_desk_at", True),
    }[scenario.sort]
    where, params = scenario.where, list(scenario.params)
    if cursor is not None:
        where += f" AND (b.{field}, b.id) {'<' if desc else '>'} (%s, %s)"
        params += [cursor[0], cursor[1]]
    direction = "DESC" if desc else "ASC"
    sql = (
        "SELECT b.* FROM oversight_breach b "
        f"WHERE b.on_desk_at IS NOT NULL AND {where} "
        f"ORDER BY b.{field} {direction}, b.id {direction} LIMIT {PAGE + 1}"
    )
    return sql, params


def run_floor(sql: str, params: list[Any]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def make_breach_months(now: dt.datetime, days: int) -> int:
    """The breaches' month partitions over the span, made before the rows are written (the
    migrations make this month and the next ones only: older rows would otherwise all land
    in the DEFAULT partition, whose timings are not those of a live month). Returns how
    many were made; none on an unpartitioned table."""
    from core.partitioning import MONTHS_AHEAD, add_months, ensure_partitions, month_start

    first = month_start((now - dt.timedelta(days=days + 1)).date())
    last = add_months(month_start(now.date()), MONTHS_AHEAD)
    span = (last.year - first.year) * 12 + last.month - first.month
    return len(ensure_partitions(["oversight_breach"], today=first, months_ahead=span))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--breaches", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--desk", type=float, default=0.3, help="share of breaches on the desk")
    parser.add_argument(
        "--days",
        type=int,
        default=730,
        help="breaches occurred up to this many days ago (on PostgreSQL, one live month "
        "partition per month of that span)",
    )
    report.add_argument(parser)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (median)")
    parser.add_argument(
        "--profile", action="store_true", help="print a profile of the default view's page 1"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_review_queue needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
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
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.management import call_command
    from django.db import connection
    from django.test import RequestFactory
    from django.utils import timezone

    from agencies.models import Agency
    from oversight import desk
    from oversight.filters import ReviewDeskFilter
    from oversight.selectors import desk_counts, desk_cursor_read, desk_page, review_desk
    from oversight.views.staff import _queue_page

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    reviewers, sizes = build_world(args.agencies)
    now = timezone.now()
    params = {
        "n": args.breaches,
        "now": now,
        "desk": args.desk,
        "nrev": REVIEWERS,
        "nsvc": sizes["services"],
        "nkind": len(KINDS),
        "days": args.days,
    }
    t, made = timed(lambda: make_breach_months(now, args.days))
    print(f"  {made:,} month partitions of breaches made in {t:.1f}s")
    t, n = timed(lambda: execute(GENERATE_SQL, params))
    print(f"  {n:,} breaches of {args.agencies} agencies ({sizes['units']:,} units, "
          f"{sizes['services']:,} services) generated in {t:.1f}s")  # fmt: skip
    t, n = timed(lambda: execute(ESCALATION_SQL, {}))
    print(f"  {n:,} escalation rows in {t:.1f}s")
    vacuum("oversight_breach", "oversight_breachescalation", "agencies_agency")
    # Twice: right after the bulk inserts (autovacuum's own analyze of the fresh rows still
    # running), the first pass leaves most pages not marked all-visible, and the desk's
    # index-only scans would then visit the heap for every row, as no live desk does for
    # long (autovacuum marks them in time).
    vacuum("oversight_breach", "oversight_breachescalation")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM oversight_breach WHERE on_desk_at IS NOT NULL")
        desk_rows = cursor.fetchone()[0]
    print(f"  {desk_rows:,} breaches on the desk")

    reviewer = reviewers[0]
    agency = Agency.objects.order_by("pk")[7]
    not_closed = "b.status <> ALL(%s)"
    scenarios = [
        Scenario(
            "awaiting a decision, oldest first (the default view)", {}, not_closed, [list(CLOSED)]
        ),
        Scenario(
            "province 32, unassigned, newest first",
            {"region": "32", "assigned": "nobody", "sort": "newest"},
            f"{not_closed} AND b.assignee_id IS NULL AND b.agency_id IN "
            "(SELECT id FROM agencies_agency WHERE region_code LIKE %s)",
            [list(CLOSED), "32%"],
        ),
        Scenario(
            "late deliveries older than 90 days, open, longest on the desk first",
            {"kind": "late_delivery", "age": "90", "status": "open", "sort": "waiting"},
            "b.status = %s AND b.kind = %s AND b.occurred_at < %s",
            ["open", "late_delivery", now - dt.timedelta(days=90)],
        ),
        Scenario(
            f"one agency ({agency.name}), awaiting a decision, oldest first",
            {"agency": str(agency.pk)},
            f"{not_closed} AND b.agency_id = %s",
            [list(CLOSED), agency.pk],
        ),
        Scenario(
            "assigned to me, disputed, oldest first",
            {"assigned": "me", "reason": "disputed"},
            f"{not_closed} AND b.assignee_id = %s AND EXISTS (SELECT 1 FROM "
            "oversight_breachescalation e WHERE e.breach_id = b.id AND e.disputed_at IS NOT NULL)",
            [list(CLOSED), reviewer.pk],
        ),
    ]

    factory = RequestFactory()

    def request_for(query: dict[str, str]) -> Any:
        request = factory.get("/staff/breaches/queue/", query)
        request.user = reviewer
        request.session = SessionStore()
        return request

    def page_cursor(query: dict[str, str], page: int) -> tuple[str, int]:
        """The cursor of page `page` (walking the pages, untimed), and the page reached."""
        request = request_for(query)
        filterset = ReviewDeskFilter(
            request.GET,
            queryset=review_desk(user=reviewer),
            request=request,
            reviewers=list(reviewers),
        )
        assert filterset.is_valid(), filterset.errors
        cursor, reached = "", 1
        while reached < page:
            found = desk_page(queryset=filterset.qs, sort=filterset.order_key, cursor=cursor)
            if not found.next_cursor:
                break
            cursor, reached = found.next_cursor, reached + 1
        return cursor, reached

    print()
    print(f"{'':58} {'selector':>9} {'ours':>9} {'floor':>9} {'ratio':>7}")
    worst = 0.0
    pages: list[dict[str, object]] = []
    for scenario in scenarios:
        print(scenario.label)
        for page in (1, 50):
            cursor, reached = page_cursor(scenario.query, page) if page > 1 else ("", 1)
            query = dict(scenario.query, **({"after": cursor} if cursor else {}))

            def ours(query: dict[str, str] = query) -> None:
                request = request_for(query)
                response = _queue_page(request, request.GET)
                assert response.status_code == 200, response.status_code
                assert b"data-breach=" in response.content

            if args.profile and scenario is scenarios[0] and page == 1:
                import cProfile
                import pstats

                ours()
                profiler = cProfile.Profile()
                profiler.runcall(ours)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)

            def selector(query: dict[str, str] = query) -> None:
                request = request_for(query)
                filterset = ReviewDeskFilter(
                    request.GET,
                    queryset=review_desk(user=reviewer),
                    request=request,
                    reviewers=list(desk.reviewers()),
                )
                assert filterset.is_valid(), filterset.errors
                desk_page(
                    queryset=filterset.qs,
                    sort=filterset.order_key,
                    cursor=filterset.after_cursor,
                )
                desk_counts(queryset=filterset.counted())

            keyset = desk_cursor_read(scenario.sort, cursor) if cursor else None
            sql, sql_params = floor_sql(scenario, keyset)
            assert run_floor(sql, sql_params) > 0
            t_ours = median_ms(ours, args.repeat)
            t_selector = median_ms(selector, args.repeat)
            t_floor = median_ms(lambda sql=sql, p=sql_params: run_floor(sql, p), args.repeat)
            worst = max(worst, t_ours)
            label = f"  page {reached}" + ("" if reached == page else " (the last)")
            pages.append(
                {
                    "view": scenario.label,
                    "page": reached,
                    "selector_ms": t_selector,
                    "ours_ms": t_ours,
                    "floor_ms": t_floor,
                }
            )
            print(
                f"{label:58} {t_selector:7.1f}ms {t_ours:7.1f}ms {t_floor:7.2f}ms "
                f"{t_ours / t_floor:6.1f}x"
            )
    print()
    print(f"slowest page, selector + render: {worst:.1f} ms (target < 100 ms)")
    report.save(
        "review_queue",
        args.json,
        args,
        {"breaches": args.breaches, "desk_rows": desk_rows, "worst_ms": worst, "pages": pages},
    )
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
