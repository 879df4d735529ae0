"""The public site under load: the service page and search against a trivial view, with wrk.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_public.py --services 10000

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
migrates it, seeds the demo registry, scales it up to N services by cloning the demo's
published services (with their current version and its requirements, steps, costs and
complaint channels) in set-based SQL, refreshes their search vectors with
`services.search.service_search_refresh`, then starts gunicorn (2 sync workers, DEBUG=0,
production settings) on a free loopback port and measures with wrk, ~10 s each:

- `/robots.txt` (a view that touches neither the database nor a template): the baseline;
- the KTP-el service page;
- the search page `/search/?q=ktp`;
- the KTP-el service page again, rendered live (with a session cookie, as staff see it: the
  anonymous rows above are served from the page cache, core.page_cache).

It prints requests/s, the ratio to the baseline, and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import _admin, _server_url, own_database, timed, vacuum  # noqa: E402

KTP_AGENCY = "disdukcapil-kota-bandung"
KTP_SERVICE = "ktp-el"


@contextlib.contextmanager
def kept_database(url: str, name: str) -> Iterator[str]:
    """A database that outlives the run (--keep-database), created if missing."""
    import psycopg

    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
        _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(url, name)
    finally:
        from django.db import connections

        connections.close_all()


# --- Scaling the demo up ---------------------------------------------------------------------


def _columns(model: Any, skip: set[str]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.column not in skip]


def scale_up(target: int) -> tuple[int, int]:
    """Clone the demo's published services until there are `target` services; (total, added)."""
    from django.db import connection, transaction

    from services.models import (
        ComplaintChannel,
        CostItem,
        ProcedureStep,
        Requirement,
        Service,
        StandardVersion,
    )
    from services.search import service_search_refresh

    s_table = Service._meta.db_table
    v_table = StandardVersion._meta.db_table
    existing = Service.objects.count()
    published = StandardVersion.objects.filter(status="published").count()
    if existing >= target or not published:
        return existing, 0
    copies = math.ceil((target - existing) / published)
    with transaction.atomic(), connection.cursor() as cur:
        # Which clone gets which id: drawn from the tables' own sequences.
        cur.execute(
            f"""CREATE TEMP TABLE svc_map ON COMMIT DROP AS
            SELECT old_id, old_vid, k,
                   nextval(pg_get_serial_sequence('{s_table}', 'id')) AS new_id,
                   nextval(pg_get_serial_sequence('{v_table}', 'id')) AS new_vid
            FROM (
                SELECT s.id AS old_id, v.id AS old_vid, k
                FROM {s_table} s
                JOIN {v_table} v ON v.service_id = s.id AND v.status = 'published'
                CROSS JOIN generate_series(1, %s) AS k
                ORDER BY k, s.id LIMIT %s
            ) AS wanted""",
            [copies, target - existing],
        )
        s_cols = _columns(Service, {"id"})
        s_expr = {
            "slug": "left(s.slug, 90) || '-' || m.new_id",  # unique, also when scaled again
            "created_at": "now()",
            "updated_at": "now()",
            "search_vector": "NULL",
        }
        cur.execute(
            f"INSERT INTO {s_table} (id, {', '.join(s_cols)}) SELECT m.new_id, "
            + ", ".join(s_expr.get(c, f"s.{c}") for c in s_cols)
            + f" FROM svc_map m JOIN {s_table} s ON s.id = m.old_id"
        )
        added = cur.rowcount
        v_cols = _columns(StandardVersion, {"id"})
        cur.execute(
            f"INSERT INTO {v_table} (id, {', '.join(v_cols)}) SELECT m.new_vid, "
            + ", ".join("m.new_id" if c == "service_id" else f"v.{c}" for c in v_cols)
            + f" FROM svc_map m JOIN {v_table} v ON v.id = m.old_vid"
        )
        for child in (Requirement, ProcedureStep, CostItem, ComplaintChannel):
            c_cols = _columns(child, {"id"})
            cur.execute(
                f"INSERT INTO {child._meta.db_table} ({', '.join(c_cols)}) SELECT "
                + ", ".join("m.new_vid" if c == "version_id" else f"c.{c}" for c in c_cols)
                + f" FROM svc_map m JOIN {child._meta.db_table} c ON c.version_id = m.old_vid"
            )
    ids = list(Service.objects.values_list("pk", flat=True))
    service_search_refresh(service_ids=ids)
    return Service.objects.count(), added


def add_deliveries(total: int, days: int = 400) -> int:
    """Add service requests until there are `total`, spread round-robin over every published
    service, submitted over the last `days` days; one INSERT ... SELECT generate_series.

    About 85% completed (a third of those after their due date, one in twenty charged more
    than promised), the rest open, paused or waiting. Due dates count calendar days from the
    submission (the working-day calendar is not consulted): the performance figures the
    pages show are computed over this volume, not checked against it (bench_deliveries
    checks due dates). Returns the number added."""
    from django.db import connection, transaction

    from agencies.calendars import calendar_national
    from delivery.models import ServiceDelivery
    from services.models import StandardVersion

    table = ServiceDelivery._meta.db_table
    existing = ServiceDelivery.objects.count()
    wanted = total - existing
    if wanted <= 0:
        return 0
    national = calendar_national().pk
    v_table = StandardVersion._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""CREATE TEMP TABLE svc_pick ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY s.id) - 1 AS n, s.id AS service_id,
                   s.agency_id, s.unit_id, v.id AS version_id,
                   COALESCE(v.processing_time_value, 5) AS promise_value,
                   COALESCE(NULLIF(v.processing_time_unit, ''), 'working_days') AS promise_unit,
                   v.total_cost,
                   COALESCE(u.calendar_id, a.calendar_id, %s) AS calendar_id
            FROM services_service s
            JOIN {v_table} v ON v.service_id = s.id AND v.status = 'published'
            JOIN agencies_unit u ON u.id = s.unit_id
            JOIN agencies_agency a ON a.id = s.agency_id""",
            [national],
        )
        cur.execute("SELECT count(*) FROM svc_pick")
        services = cur.fetchone()[0]
        if not services:
            return 0
        # r1..r3: per-row pseudo-random numbers in [0, 1), from the row number (repeatable).
        cur.execute(
            f"""INSERT INTO {table} (
                agency_id, unit_id, service_id, version_id, calendar_id, reference,
                tracking_code, channel, status, submitted_at, file_complete_at,
                clock_started_at, clock_start_date, completed_at, outcome, refusal_reason,
                fee_charged, promise_value, promise_unit, promised_cost, paused_working_days,
                paused_minutes, due_date, due_at, extended_due_date, extension_reason,
                working_days_taken, created_at, updated_at)
            SELECT p.agency_id, p.unit_id, p.service_id, p.version_id, p.calendar_id,
                   'BENCH-' || g.i, 'B' || lpad(upper(to_hex(g.i)), 10, '0'),
                   (ARRAY['counter', 'online', 'mobile'])[1 + g.i %% 3],
                   x.status, x.submitted, x.submitted, x.submitted, x.submitted::date,
                   x.completed, CASE WHEN x.completed IS NULL THEN '' ELSE 'granted' END, '',
                   CASE WHEN g.i %% 20 = 0 THEN p.total_cost + 10000 ELSE p.total_cost END,
                   p.promise_value, p.promise_unit, p.total_cost, 0, 0,
                   x.due::date, x.due, NULL, '',
                   CASE WHEN x.completed IS NULL THEN NULL
                        ELSE (x.completed::date - x.submitted::date) END,
                   x.submitted, COALESCE(x.completed, x.submitted)
            FROM generate_series(%s, %s) AS g(i)
            JOIN svc_pick p ON p.n = g.i %% %s
            CROSS JOIN LATERAL (
                SELECT (g.i * 0.6180339887) %% 1 AS r1, (g.i * 0.4142135623) %% 1 AS r2,
                       (g.i * 0.7320508075) %% 1 AS r3
            ) AS r
            CROSS JOIN LATERAL (
                SELECT now() - make_interval(secs => r.r1 * %s * 86400) AS submitted,
                       GREATEST(p.promise_value, 1) AS promise_days
            ) AS s
            CROSS JOIN LATERAL (
                SELECT s.submitted,
                       s.submitted + make_interval(days => s.promise_days) AS due,
                       CASE WHEN r.r2 < 0.85 THEN LEAST(now(), s.submitted + make_interval(
                           secs => r.r3 * s.promise_days * 1.5 * 86400)) END AS completed,
                       CASE WHEN r.r2 < 0.85 THEN 'completed'
                            WHEN r.r2 < 0.95 THEN 'open'
                            WHEN r.r2 < 0.98 THEN 'paused' ELSE 'waiting' END AS status
            ) AS x""",
            [existing + 1, existing + wanted, services, days],
        )
        added = cur.rowcount
    vacuum(table)
    return int(added)


# --- gunicorn and wrk -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MAKLUMAT_TESTING", None)  # production settings
    env.update(
        DATABASE_URL=db_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )
    return env


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/robots.txt", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def fetch(url: str) -> tuple[int, int]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, threads: int, cookie: str = "") -> WrkResult:
    extra = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-H",
            "Accept-Language: id",
            *extra,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = []
    for pattern in (r"Non-2xx or 3xx responses: \d+", r"Socket errors: [^\n]+"):
        found = re.search(pattern, out)
        if found:
            errors.append(found.group(0))
    return WrkResult(rps, p50, p99, total, "; ".join(errors))


# --- The mix: every public page at once ------------------------------------------------------

# Each wrk process writes its requests, errors and whole latency histogram (microseconds,
# value and count) to $MIX_OUT, so that the mix's percentiles are exact, not averaged.
MIX_LUA = """
done = function(summary, latency, requests)
  local f = assert(io.open(os.getenv("MIX_OUT"), "w"))
  local e = summary.errors
  f:write(string.format("%d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
  for i = 1, #latency do
    local v, c = latency(i)
    f:write(string.format("%d %d\\n", v, c))
  end
  f:close()
end
"""


@dataclass
class MixPage:
    requests: int
    seconds: float
    errors: dict[str, int]
    histogram: dict[int, int]  # latency in microseconds -> responses

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile_ms(histogram: dict[int, int], p: float) -> float:
    """The p-th percentile (0-100) of a latency histogram, in milliseconds (nan if empty)."""
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank = max(1, math.ceil(total * p / 100))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value / 1000
    return max(histogram) / 1000


def split_connections(connections: int, pages: int) -> list[int]:
    """`connections` shared out over `pages` (at least one each), the first pages taking
    the remainder."""
    base, extra = divmod(max(connections, pages), pages)
    return [base + (1 if i < extra else 0) for i in range(pages)]


def read_mix_output(path: Path) -> MixPage:
    lines = path.read_text().split()
    head = [int(x) for x in lines[:7]]
    pairs = [int(x) for x in lines[7:]]
    histogram: dict[int, int] = {}
    for value, count in zip(pairs[::2], pairs[1::2], strict=True):
        histogram[value] = histogram.get(value, 0) + count
    names = ("connect", "read", "write", "status", "timeout")
    return MixPage(
        requests=head[0],
        seconds=head[1] / 1_000_000,
        errors={name: n for name, n in zip(names, head[2:], strict=True) if n},
        histogram=histogram,
    )


def wrk_mix(
    base: str, pages: list[tuple[str, str, str]], *, seconds: int, connections: int
) -> dict[str, MixPage]:
    """Every page at once for `seconds`: one wrk process (one thread) per page, the
    connections shared out between them; {key: MixPage}."""
    import tempfile

    results: dict[str, MixPage] = {}
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
        script = Path(tmp) / "mix.lua"
        script.write_text(MIX_LUA)
        procs = []
        for (key, _label, path), conns in zip(
            pages, split_connections(connections, len(pages)), strict=True
        ):
            out = Path(tmp) / f"{key}.txt"
            env = dict(os.environ, MIX_OUT=str(out))
            cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s"]
            cmd += ["-H", "Accept-Language: id", "-s", str(script), base + path]
            procs.append((key, out, subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)))
        for key, out, proc in procs:
            if proc.wait() != 0 or not out.exists():
                raise SystemExit(f"wrk for {key} failed ({proc.returncode})")
            results[key] = read_mix_output(out)
    return results


def mix_figures(results: dict[str, MixPage], cached: set[str]) -> dict[str, Any]:
    """Per page and for the whole mix: requests, errors, req/s, p50, p99, ratio to the
    trivial view's req/s in the same mix."""
    baseline = results["trivial"].rps if "trivial" in results else 0.0
    pages: dict[str, dict[str, Any]] = {}
    merged: dict[int, int] = {}
    merged_cached: dict[int, int] = {}
    for key, r in results.items():
        pages[key] = {
            "requests": r.requests,
            "errors": r.error_count,
            "error_kinds": r.errors,
            "rps": r.rps,
            "ratio": r.rps / baseline if baseline else float("nan"),
            "p50_ms": percentile_ms(r.histogram, 50),
            "p99_ms": percentile_ms(r.histogram, 99),
            "cached": key in cached,
        }
        for value, count in r.histogram.items():
            merged[value] = merged.get(value, 0) + count
            if key in cached:
                merged_cached[value] = merged_cached.get(value, 0) + count
    total = {
        "requests": sum(r.requests for r in results.values()),
        "errors": sum(r.error_count for r in results.values()),
        "rps": sum(r.rps for r in results.values()),
        "p50_ms": percentile_ms(merged, 50),
        "p99_ms": percentile_ms(merged, 99),
        "cached_p50_ms": percentile_ms(merged_cached, 50),
        "cached_p99_ms": percentile_ms(merged_cached, 99),
        "cached_worst_p99_ms": max(
            (pages[k]["p99_ms"] for k in cached if k in pages), default=float("nan")
        ),
    }
    return {"pages": pages, "total": total}


# --- Main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=10_000, help="services in the registry")
    parser.add_argument(
        "--deliveries", type=int, default=1_000_000, help="service requests in the database"
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--threads", type=int, default=2, help="wrk threads (the one-page-at-a-time runs)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=("sync", "gthread"),
        help="gunicorn workers' class (gunicorn.conf.py: gthread; sync takes no threads)",
    )
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=16,
        help="gunicorn threads per worker (gthread; gunicorn.conf.py: 16)",
    )
    parser.add_argument(
        "--keep-alive", type=int, default=75, help="gunicorn keep-alive, s (gunicorn.conf.py: 75)"
    )
    parser.add_argument(
        "--mix", action="store_true", help="then every public page at once (the load test)"
    )
    parser.add_argument("--mix-only", action="store_true", help="only the mix")
    parser.add_argument(
        "--keep-database",
        metavar="NAME",
        help="use (create if missing) and keep this database instead of a throwaway one: "
        "a rerun at the same sizes skips the set-up (drop it yourself when done)",
    )
    parser.add_argument("--mix-seconds", type=int, default=0, help="the mix's duration")
    report.add_argument(parser)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_public needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
        return 2
    if not shutil.which("wrk"):
        print("bench_public needs wrk (Debian: apt-get install wrk).")
        return 2

    database = kept_database(url, args.keep_database) if args.keep_database else own_database(url)
    with database as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MAKLUMAT_TESTING", "1")  # for the set-up in this process only
        os.environ["DEBUG"] = "0"
        os.environ.setdefault("CACHE_URL", "locmemcache://bench")
        import django

        django.setup()
        return run(args, bench_url)


def run(args: argparse.Namespace, bench_url: str) -> int:
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, connections

    from demo.lifeevents import seed_life_events
    from demo.locations import seed_locations
    from demo.management.commands.seed_demo import seed_registry

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    t, _ = timed(lambda: (seed_registry(), seed_locations(), seed_life_events()))
    print(f"  demo seeded (registry, locations, life events) in {t:.1f}s")
    t, (total, added) = timed(lambda: scale_up(args.services))
    print(
        f"  scaled to {total:,} services ({added:,} cloned, search vectors refreshed) in {t:.1f}s"
    )
    t, added_deliveries = timed(lambda: add_deliveries(args.deliveries))
    print(f"  {added_deliveries:,} service requests added (set-based) in {t:.1f}s")
    vacuum(
        "services_service",
        "services_standardversion",
        "services_requirement",
        "services_procedurestep",
        "services_costitem",
        "services_complaintchannel",
    )
    mix = mix_pages()
    from delivery.models import ServiceDelivery

    deliveries = ServiceDelivery.objects.count()
    cache.clear()  # the server shares CACHE_URL: no page cached from an earlier database
    connections.close_all()

    env = server_env(bench_url)
    t, _ = timed(
        lambda: subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    )
    print(f"  collectstatic (the manifest production settings need) in {t:.1f}s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    if args.worker_class == "sync":
        args.worker_threads = 1  # gunicorn would turn sync workers with threads into gthread
    server = f"{args.workers} {args.worker_class} workers"
    if args.worker_class == "gthread":
        server += f" x {args.worker_threads} threads, keep-alive {args.keep_alive} s"
    proc = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.worker_threads),
            "--keep-alive",
            str(args.keep_alive),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    figures: dict[str, Any] = {
        "services": total,
        "deliveries": deliveries,
        "seconds": args.seconds,
        "connections": args.connections,
        "workers": args.workers,
        "server": server,
    }
    try:
        wait_ready(base, proc)
        for _key, label, path in mix:  # warm every worker (and the cache); check the pages
            for _ in range(4 * args.workers):
                status, size = fetch(base + path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            print(f"  {label}: 200, {size:,} bytes")
        if not args.mix_only:
            figures["pages"] = run_pages(args, base, total, server, mix)
        if args.mix or args.mix_only:
            for _key, _label, path in mix:  # what the page runs above left cold (a new period)
                fetch(base + path)
            figures["mix"] = run_mix(args, base, total, deliveries, server, mix)
            figures["mix_seconds"] = args.mix_seconds or args.seconds
            if args.mix_only:  # the load row reads "pages": the mix's own per-page figures
                figures["pages"] = figures["mix"]["pages"]
                figures["seconds"] = figures["mix_seconds"]
        report.save("public", args.json, args, figures)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


def mix_pages() -> list[tuple[str, str, str]]:
    """(key, label, path) of every public page the mix requests, the trivial view first."""
    from agencies.models import Location, Unit
    from charter.models import Charter, CharterStatus
    from lifeevents.selectors import life_event_list_public

    unit = Unit.objects.filter(agency__slug=KTP_AGENCY, is_active=True).order_by("pk").first()
    location = Location.objects.order_by("pk").first()
    event = next(iter(life_event_list_public()), None)
    charter = Charter.objects.filter(status=CharterStatus.PUBLISHED).order_by("pk").first()
    if unit is None or location is None or event is None or charter is None:
        raise SystemExit("the demo registry lacks a unit, location, life event or charter")
    return [
        ("trivial", "trivial view /robots.txt", "/robots.txt"),
        ("service", "KTP-el service page", f"/agencies/{KTP_AGENCY}/services/{KTP_SERVICE}/"),
        ("search", "search /search/?q=ktp", "/search/?q=ktp"),
        ("home", "home", "/"),
        ("agency", "agency page", f"/agencies/{KTP_AGENCY}/"),
        ("unit", "unit page", f"/agencies/{KTP_AGENCY}/units/{unit.slug}/"),
        ("location", "location page", f"/locations/{location.slug}/"),
        ("life_event", "life event page", f"/life-events/{event.slug}/"),
        ("league", "league /agencies/", "/agencies/"),
        ("charter", "charter page", f"/charters/{charter.pk}/"),
    ]


# Pages that core.page_cache serves (all but the baseline and search).
CACHED = {"service", "home", "agency", "unit", "location", "life_event", "league", "charter"}


def run_pages(
    args: argparse.Namespace,
    base: str,
    total: int,
    server: str,
    mix: list[tuple[str, str, str]],
) -> dict[str, dict[str, object]]:
    """The trivial view, the service page, search and the live service page, one after the
    other, each for --seconds."""
    pages = [(label, path) for key, label, path in mix if key in ("trivial", "service", "search")]
    # The same service page rendered live: a session cookie (even an unknown one) is
    # what staff carry, and core.page_cache never serves them a cached page.
    live = ("KTP-el service page, live", pages[1][1])
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency --timeout 30s "
        f"against gunicorn ({server}, DEBUG=0), {total:,} services"
    )
    print(f"    {'page':28} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
    baseline = 0.0
    measured: dict[str, dict[str, object]] = {}
    keys = ["trivial", "service", "search", "service_live"]
    for key, (label, path) in zip(keys, [*pages, live], strict=True):
        r = wrk(
            base + path,
            seconds=args.seconds,
            connections=args.connections,
            threads=args.threads,
            cookie="sessionid=bench-live" if (label, path) == live else "",
        )
        baseline = baseline or r.rps
        print(
            f"    {label:28} {r.rps:9.1f} {r.rps / baseline:7.3f} "
            f"{r.p50_ms:8.1f} {r.p99_ms:8.1f}" + (f"  ({r.errors})" if r.errors else "")
        )
        measured[key] = {
            "rps": r.rps,
            "ratio": r.rps / baseline,
            "p50_ms": r.p50_ms,
            "p99_ms": r.p99_ms,
            "requests": r.requests,
            "errors": r.errors,
        }
    return measured


def run_mix(
    args: argparse.Namespace,
    base: str,
    total: int,
    deliveries: int,
    server: str,
    mix: list[tuple[str, str, str]],
) -> dict[str, Any]:
    """Every page of the mix at once for --mix-seconds over --connections in all."""
    seconds = args.mix_seconds or args.seconds
    shares = split_connections(args.connections, len(mix))
    print(
        f"\nThe mix: {len(mix)} pages at once, {args.connections} connections in all "
        f"({'/'.join(map(str, shares))}), {seconds} s, one wrk per page, against gunicorn "
        f"({server}, DEBUG=0), {total:,} services, {deliveries:,} requests; "
        f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    results = wrk_mix(base, mix, seconds=seconds, connections=args.connections)
    figures = mix_figures(results, CACHED)
    print(
        f"    {'page':28} {'requests':>9} {'errors':>7} {'req/s':>8} {'ratio':>7} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    for key, label, _path in mix:
        page = figures["pages"][key]
        kinds = ", ".join(f"{k} {n}" for k, n in page["error_kinds"].items())
        print(
            f"    {label:28} {page['requests']:9,} {page['errors']:7,} {page['rps']:8.1f} "
            f"{page['ratio']:7.3f} {page['p50_ms']:8.1f} {page['p99_ms']:8.1f}"
            + (f"  ({kinds})" if kinds else "")
        )
    t = figures["total"]
    print(
        f"    {'the mix':28} {t['requests']:9,} {t['errors']:7,} {t['rps']:8.1f} {'':7} "
        f"{t['p50_ms']:8.1f} {t['p99_ms']:8.1f}"
    )
    print(
        f"    cached pages together: p50 {t['cached_p50_ms']:.1f} ms, p99 "
        f"{t['cached_p99_ms']:.1f} ms (worst page's p99 {t['cached_worst_p99_ms']:.1f} ms)"
    )
    return figures


if __name__ == "__main__":
    sys.exit(main())
