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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import own_database, timed, vacuum  # noqa: E402

KTP_AGENCY = "disdukcapil-kota-bandung"
KTP_SERVICE = "ktp-el"


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


# --- Main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=10_000, help="services in the registry")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    report.add_argument(parser)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_public needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
        return 2
    if not shutil.which("wrk"):
        print("bench_public needs wrk (Debian: apt-get install wrk).")
        return 2

    with own_database(url) as bench_url:
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

    from demo.management.commands.seed_demo import seed_registry

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    t, _ = timed(seed_registry)
    print(f"  demo seeded in {t:.1f}s")
    t, (total, added) = timed(lambda: scale_up(args.services))
    print(
        f"  scaled to {total:,} services ({added:,} cloned, search vectors refreshed) in {t:.1f}s"
    )
    vacuum(
        "services_service",
        "services_standardversion",
        "services_requirement",
        "services_procedurestep",
        "services_costitem",
        "services_complaintchannel",
    )
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
    proc = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_ready(base, proc)
        pages = [
            ("trivial view /robots.txt", "/robots.txt"),
            ("KTP-el service page", f"/agencies/{KTP_AGENCY}/services/{KTP_SERVICE}/"),
            ("search /search/?q=ktp", "/search/?q=ktp"),
        ]
        # The same service page rendered live: a session cookie (even an unknown one) is
        # what staff carry, and core.page_cache never serves them a cached page.
        live = ("KTP-el service page, live", pages[1][1])
        for label, path in pages:  # warm both workers (and the cache) and check the pages
            for _ in range(2 * args.workers):
                status, size = fetch(base + path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            print(f"  {label}: 200, {size:,} bytes")
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency --timeout 30s against "
            f"gunicorn ({args.workers} sync workers, DEBUG=0), {total:,} services"
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
        report.save(
            "public",
            args.json,
            args,
            {
                "services": total,
                "seconds": args.seconds,
                "connections": args.connections,
                "workers": args.workers,
                "pages": measured,
            },
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
