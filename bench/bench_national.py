"""National scale, on PostgreSQL: what the history's size costs the sweep, the figures, the
review desk and the service page.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_national.py --requests 10000000 --base 1000000

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
migrates it, builds `--agencies` agencies of five published services each (bench_deliveries)
and 20 ombudsman reviewers. Then, in the same database:

1. **base**: `--base` requests (B, default 1,000,000) submitted over the last year, and B/10
   breaches over the last two years (bench_review_queue's generator: kinds, statuses, a
   share on the review desk, their escalation rows); every figure below is measured;
2. **history**: the requests grow to `--requests` (N, default 10,000,000) with N - B requests
   submitted in the years before (the same throughput per year, all completed), and the
   breaches to N/10 with older ones; the same figures are measured again.

The requests are written with bench_sweep's `INSERT ... SELECT generate_series` (due dates
set in SQL; column names only, so it works on a plain or a partitioned table); nothing goes
through the ORM row by row. On PostgreSQL the month partitions of every partitioned table
(deliveries, breaches, the outbox) are made before each phase's rows are written, so each
row lands in its month (not the DEFAULT partition). Each figure is the median of `--repeat` runs (the sweep: one
run; it moves the watermark), and each is printed with its ratio to the base's:

- **sweep**: the incremental sweep after `--changes` new requests (the same rows in both
  phases: same seed), with the watermark set just before them (`oversight.sweep.sweep`);
- **figures**: `performance_figures` of one service and of one agency (uncached), the
  service's 12 months (`performance_by_month`) and the national league (`agency_league`);
- **review desk**: the desk's first page as a reviewer opens it (`_queue_page`: filters,
  page, counts, template), the default view and one agency's;
- **service page**: the server's time for an anonymous GET of a service page through
  Django's test client (the page cache cleared before each run, so it is rendered with its
  figures: the live cost, not a cache hit).

The target (issue 17): cost flat in history, each ratio near 1 (the sweep's <= 1.3x).
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

import bench_review_queue as queue_bench  # noqa: E402
import bench_sweep as sweep_bench  # noqa: E402
import report  # noqa: E402
from bench_deliveries import build_world, own_database, timed, vacuum  # noqa: E402

DELIVERY = "delivery_servicedelivery"
CHUNK = 1_000_000  # requests per INSERT statement (progress, and bounded transactions)

# bench_sweep's generator with the share of completed requests as a parameter (history:
# every old request is closed) ...
REQUESTS_SQL = sweep_bench.GENERATE_SQL.replace("z.r1 < 0.9", "z.r1 < %(done)s")
# ... and bench_review_queue's with the ids and the age window as parameters.
BREACHES_SQL = queue_bench.GENERATE_SQL.replace(
    "generate_series(1, %(n)s)", "generate_series(%(first)s, %(n)s)"
).replace(
    "%(now)s - random() * %(days)s * interval '1 day'",
    "%(now)s - (%(min_age)s + random() * %(span)s) * interval '1 day'",
)
ESCALATION_SQL = queue_bench.ESCALATION_SQL.replace("WHERE (", "WHERE b.id > %(after)s AND ((")
ESCALATION_SQL = ESCALATION_SQL.rstrip() + ")\n"
assert REQUESTS_SQL != sweep_bench.GENERATE_SQL
assert "%(first)s" in BREACHES_SQL and "%(min_age)s" in BREACHES_SQL
assert "%(after)s" in ESCALATION_SQL


def execute(sql: str, params: Any = None) -> int:
    return sweep_bench.execute(sql, params)


def scalar(sql: str, params: Any = None) -> Any:
    return sweep_bench.scalar(sql, params)


def median_s(fn: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None) -> float:
    """Median wall time of fn over `repeat` runs after one warm-up; `before` runs untimed."""
    if before:
        before()
    fn()
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def requests(
    first: int, last: int, *, prefix: str, now: dt.datetime, min_age: float, span: float,
    done: float, stamp_from: dt.datetime, stamp_to: dt.datetime, calendar: int, nsvc: int,
    seed: float,
) -> int:  # fmt: skip
    """Requests first..last (chunked), submitted min_age..min_age+span days before now."""
    written = 0
    for start in range(first, last + 1, CHUNK):
        end = min(last, start + CHUNK - 1)
        execute("SELECT setseed(%s)", [seed])
        t, n = timed(
            lambda s=start, e=end: execute(
                REQUESTS_SQL,
                {
                    "first": s, "last": e, "prefix": prefix, "now": now, "min_age": min_age,
                    "span": span, "stamp_from": stamp_from, "stamp_to": stamp_to,
                    "stamp_spread": "1 hour", "calendar": calendar, "nsvc": nsvc, "done": done,
                },
            )
        )  # fmt: skip
        written += n
        print(f"    requests {start:,}..{end:,} in {t:.1f}s", flush=True)
    return written


def breaches(first: int, last: int, *, now: dt.datetime, min_age: float, span: float) -> int:
    after = scalar("SELECT COALESCE(MAX(id), 0) FROM oversight_breach")
    nsvc = scalar("SELECT count(*) FROM bench_svc")
    written = 0
    for start in range(first, last + 1, CHUNK):
        end = min(last, start + CHUNK - 1)
        written += execute(
            BREACHES_SQL,
            {
                "first": start, "n": end, "now": now, "min_age": min_age, "span": span,
                "desk": 0.3, "nrev": queue_bench.REVIEWERS, "nsvc": nsvc,
                "nkind": len(queue_bench.KINDS),
            },
        )  # fmt: skip
    execute(ESCALATION_SQL, {"after": after})
    return written


def make_months(now: dt.datetime, oldest_days: float) -> None:
    """The month partitions of every partitioned table from `oldest_days` before `now` to
    three months ahead, made before the rows are written: the migrations make this month
    and the next ones only, and older rows would all land in the DEFAULT partition (whose
    timings are not those of a partitioned table). Nothing to do on unpartitioned tables."""
    from core.partitioning import MONTHS_AHEAD, add_months, ensure_partitions, month_start
    from oversight.partitions import PARTITIONED

    first = month_start((now - dt.timedelta(days=oldest_days + 1)).date())
    last = add_months(month_start(now.date()), MONTHS_AHEAD)
    span = (last.year - first.year) * 12 + last.month - first.month
    t, made = timed(lambda: ensure_partitions(PARTITIONED, today=first, months_ahead=span))
    print(f"    {len(made):,} month partitions made in {t:.1f}s", flush=True)


def reviewers() -> list[Any]:
    """The ombudsman reviewers and the kinds table bench_review_queue's generator reads."""
    from accounts.models import User
    from agencies.models import Membership, Role

    execute("CREATE TABLE bench_kind (n int PRIMARY KEY, kind text, category text)")
    for n, kind in enumerate(queue_bench.KINDS):
        execute(
            "INSERT INTO bench_kind VALUES (%s, %s, %s)",
            [n, kind, queue_bench.CATEGORY_OF_KIND[kind]],
        )
    people = []
    execute("CREATE TABLE bench_reviewer (n int PRIMARY KEY, id bigint)")
    for r in range(queue_bench.REVIEWERS):
        user = User.objects.create_user(username=f"reviewer{r}", password=None)
        Membership.objects.create(user=user, agency=None, role=Role.OMBUDSMAN)
        execute("INSERT INTO bench_reviewer VALUES (%s, %s)", [r, user.pk])
        people.append(user)
    return people


class Measures:
    """Everything measured in one phase."""

    def __init__(self, args: argparse.Namespace, world: dict[str, Any]) -> None:
        self.args, self.world = args, world

    def sweep(self) -> dict[str, Any]:
        """The incremental sweep after --changes new requests (the same rows in each phase)."""
        from oversight.models import SweepRun
        from oversight.sweep import sweep

        w = self.world
        now1 = w["now"]
        now0 = now1 - dt.timedelta(hours=2)
        # The watermark just before the changes (history is stamped before it).
        mark = scalar("SELECT COALESCE(MAX(id), 0) FROM oversight_breach")
        SweepRun.objects.all().delete()
        SweepRun.objects.create(started_at=now0, finished_at=now0, watermark=now0, succeeded=True)
        requests(
            w["next_id"], w["next_id"] + self.args.changes - 1, prefix="N", now=now1, min_age=2,
            span=30, done=0.9, stamp_from=now0 + dt.timedelta(minutes=1),
            stamp_to=now0 + dt.timedelta(minutes=1), calendar=w["calendar"], nsvc=w["nsvc"],
            seed=0.75,
        )  # fmt: skip
        vacuum(DELIVERY, "oversight_breach", "notifications_notification")
        with sweep_bench.RuleTimer() as rules:
            seconds, result = timed(lambda: sweep(now=now1))
        # Undo: the changes and what the sweep made, so that the next phase sweeps the same.
        execute("DELETE FROM notifications_notification")
        execute("DELETE FROM oversight_breach WHERE id > %s", [mark])
        execute(f"DELETE FROM {DELIVERY} WHERE reference LIKE 'N%%'")
        return {
            "s": seconds,
            "created": sum(result.created.values()),
            "examined": result.run.examined,
            "rules": dict(rules.times),
        }

    def figures(self) -> dict[str, float]:
        from agencies.models import Agency
        from delivery.selectors import agency_league, performance_by_month, performance_figures
        from services.models import Service

        service = Service.objects.get(pk=self.world["service_id"])
        agency = Agency.objects.get(pk=service.agency_id)
        today = self.world["now"].date()
        since = today - dt.timedelta(days=365)
        repeat = self.args.repeat
        return {
            "service_figures": median_s(
                lambda: performance_figures(
                    service=service, since=since, until=today, use_cache=False
                ),
                repeat,
            ),
            "agency_figures": median_s(
                lambda: performance_figures(
                    agency=agency, since=since, until=today, use_cache=False
                ),
                repeat,
            ),
            "service_months": median_s(
                lambda: performance_by_month(service=service, until=today), repeat
            ),
            "league": median_s(
                lambda: agency_league(since=since, until=today), max(1, repeat // 2)
            ),
        }

    def desk(self) -> dict[str, float]:
        from django.contrib.sessions.backends.cache import SessionStore
        from django.test import RequestFactory

        from oversight.views.staff import _queue_page

        reviewer = self.world["reviewers"][0]
        factory = RequestFactory()

        def page(query: dict[str, str]) -> None:
            request = factory.get("/staff/breaches/queue/", query)
            request.user = reviewer
            request.session = SessionStore()
            response = _queue_page(request, request.GET)
            assert response.status_code == 200, response.status_code
            assert b"data-breach=" in response.content

        agency = str(self.world["agency_id"])
        return {
            "desk_default": median_s(lambda: page({}), self.args.repeat),
            "desk_agency": median_s(lambda: page({"agency": agency}), self.args.repeat),
        }

    def service_page(self) -> dict[str, float]:
        from django.conf import settings
        from django.core.cache import caches
        from django.test import Client

        if "testserver" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        path = self.world["service_path"]

        def get() -> None:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="id")
            assert response.status_code == 200, (path, response.status_code)

        def clear() -> None:
            for alias in caches:
                caches[alias].clear()

        return {"service_page": median_s(get, self.args.repeat, before=clear)}

    def all(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out.update(self.figures())
        out.update(self.desk())
        out.update(self.service_page())
        out["sweep"] = self.sweep()  # last: it adds and removes rows
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000_000, help="requests in all (N)")
    parser.add_argument("--base", type=int, default=1_000_000, help="the base phase's (B)")
    parser.add_argument("--changes", type=int, default=50_000, help="new requests to sweep")
    parser.add_argument("--agencies", type=int, default=20, help="agencies of 5 services each")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument(
        "--also",
        type=lambda text: [int(x) for x in text.split(",") if x],
        default=[],
        help="sizes to measure on the way to --requests, e.g. 4000000 (comma-separated)",
    )
    report.add_argument(parser)
    args = parser.parse_args()
    if args.requests < args.base:
        parser.error("--requests must be at least --base")

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_national needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
        return 2
    with own_database(url) as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MAKLUMAT_TESTING", "1")
        os.environ["DEBUG"] = "0"
        os.environ["CACHE_URL"] = "locmemcache://bench-national"
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
    now = timezone.now()
    calendar, services = build_world(args.agencies, now)
    execute("CREATE TABLE bench_svc (n int PRIMARY KEY, agency_id int, unit_id int, "
            "service_id int, version_id int, value int, cost bigint)")  # fmt: skip
    for n, s in enumerate(services):
        execute(
            "INSERT INTO bench_svc VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [n, s.agency_id, s.unit_id, s.service_id, s.version_id, s.value, s.cost],
        )
    from agencies.models import Agency

    first = services[0]
    slug = Agency.objects.get(pk=first.agency_id).slug
    world: dict[str, Any] = {
        "now": now,
        "calendar": calendar.pk,
        "nsvc": len(services),
        "reviewers": reviewers(),
        "service_id": first.service_id,
        "agency_id": first.agency_id,
        "service_path": f"/agencies/{slug}/services/{first.slug}/",
        "next_id": args.requests + 1,
    }
    measures = Measures(args, world)
    old = now - dt.timedelta(days=2)  # history is stamped before any watermark
    phases: list[dict[str, Any]] = []

    def measure(size: int) -> None:
        vacuum(DELIVERY, "oversight_breach", "oversight_breachescalation")
        vacuum(DELIVERY, "oversight_breach")  # twice: all-visible pages (bench_review_queue)
        total = scalar(f"SELECT count(*) FROM {DELIVERY}")
        on_desk = scalar("SELECT count(*) FROM oversight_breach WHERE on_desk_at IS NOT NULL")
        mb = scalar("SELECT pg_database_size(current_database()) / 1048576")
        print(f"  measuring at {total:,} requests ({on_desk:,} breaches on the desk, {mb:,} MB)")
        figures = measures.all()
        figures.update(requests=total, size=size, database_mb=mb)
        phases.append(figures)
        for key, value in figures.items():
            if isinstance(value, float):
                print(f"    {key:16} {value * 1000:9.1f} ms")
        print(f"    {'sweep':16} {figures['sweep']['s'] * 1000:9.1f} ms "
              f"({figures['sweep']['created']:,} breaches)")  # fmt: skip

    # 1. The base: a year of requests, two years of breaches.
    print(f"  base: {args.base:,} requests over the last year ...", flush=True)
    make_months(now, 730 + 2)  # the requests' year, the breaches' two
    t, _ = timed(
        lambda: requests(
            1, args.base, prefix="H", now=old, min_age=0, span=365, done=0.9,
            stamp_from=now - dt.timedelta(days=3650), stamp_to=old, calendar=calendar.pk,
            nsvc=len(services), seed=0.25,
        )
    )  # fmt: skip
    breaches(1, args.base // 10, now=now, min_age=0, span=730)
    print(f"    generated in {t:.1f}s")
    measure(args.base)

    # 2. History: the years before, at the same throughput (B a year), all completed; with
    # --also, measured on the way (each phase's report is written as soon as it is measured).
    sizes = sorted({n for n in [*args.also, args.requests] if n > args.base})
    done = args.base
    for size in sizes:
        years, before = (size - done) / args.base, (done - args.base) / args.base
        print(f"  history: {size - done:,} more requests over the {years:.1f} years before "
              f"the {1 + before:.1f} already there ...", flush=True)  # fmt: skip
        make_months(now, 730 + 365 * (before + years) + 2)  # the breaches reach furthest
        t, _ = timed(
            lambda size=size, done=done, years=years, before=before: requests(
                done + 1, size, prefix="H", now=old, min_age=366 + 365 * before,
                span=365 * years, done=1.0, stamp_from=now - dt.timedelta(days=36500),
                stamp_to=old, calendar=calendar.pk, nsvc=len(services), seed=0.5 + done / 1e12,
            )
        )  # fmt: skip
        breaches(done // 10 + 1, size // 10, now=now, min_age=730 + 365 * before, span=365 * years)
        print(f"    generated in {t:.1f}s")
        done = size
        measure(size)
        summarise(args, phases[0], phases[-1])
    if not sizes:
        summarise(args, phases[0], phases[0])
    return 0


def summarise(args: argparse.Namespace, base: dict[str, Any], big: dict[str, Any]) -> None:
    keys = [k for k, v in base.items() if isinstance(v, float)]
    print()
    print(f"{'measure':18} {base['requests']:>14,} {big['requests']:>14,}  ratio")
    ratios: dict[str, float] = {}
    for key in [*keys, "sweep"]:
        a = base[key]["s"] if key == "sweep" else base[key]
        b = big[key]["s"] if key == "sweep" else big[key]
        ratios[key] = b / a
        print(f"{key:18} {a * 1000:11.1f} ms {b * 1000:11.1f} ms {b / a:6.2f}x")
    print(f"  sweep per rule ({base['requests']:,} / {big['requests']:,}):")
    for kind, seconds in big["sweep"]["rules"].items():
        print(f"    {kind:26} {base['sweep']['rules'].get(kind, 0):8.3f}s {seconds:8.3f}s")
    print(f"  load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    report.save(
        "national",
        args.json,
        args,
        {
            "base_requests": base["requests"],
            "requests": big["requests"],
            "database_mb": big["database_mb"],
            "ratios": ratios,
            "worst_ratio": max(ratios.values()),
            "sweep_ratio": ratios["sweep"],
            "base": {k: base[k] for k in keys} | {"sweep": base["sweep"]["s"]},
            "big": {k: big[k] for k in keys} | {"sweep": big["sweep"]["s"]},
            "sweep_rules": {"base": base["sweep"]["rules"], "big": big["sweep"]["rules"]},
        },
    )


if __name__ == "__main__":
    sys.exit(main())
