"""Public search at two registry sizes: EXPLAIN (ANALYZE, BUFFERS) and wrk against a trivial view.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_search.py --services 10000 100000

Creates its own database next to the one DATABASE_URL names (dropped at the end), migrates
it and seeds the demo registry. Then, for each size in `--services` (ascending, in the same
database: the registry is scaled up between sizes with `bench_public.scale_up`):

1. **Where the time goes**, in this process: the queries a live search runs (`?q=ktp`, and
   the filter-only `?category=kependudukan` whose matches grow with the registry), each
   printed with `EXPLAIN (ANALYZE, BUFFERS)` (the bounded count, the ranked page, the page's
   versions), then the median time of the whole live view (queries and rendering).
2. **Throughput**, with gunicorn (2 sync workers, DEBUG=0, production settings) and wrk:
   `/robots.txt` (the baseline, touching neither database nor template), `/search/?q=ktp`
   as an anonymous visitor (the page cache), the same search with the words in capitals and
   a parameter the page does not read (`?q=KTP&utm_source=x`: never kept by the page cache,
   so every request renders the page, but the results come from the results cache), and
   the same search live (a session cookie, as staff: every request runs the queries and
   renders).

Each page is measured in `--rounds` (2) interleaved rounds and its best round kept (the
machine is shared). It prints requests/s, the ratio to the best baseline and p50/p99, and
(for two sizes or more) how much worse each ratio is at the largest size than at the
smallest (the issue's target: at most 1.5x). The headline figures (the smallest size's pages, and every size's) go to
$BENCH_OUT/search.json (bench/summary.py).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import own_database, timed, vacuum  # noqa: E402
from bench_public import fetch, free_port, scale_up, server_env, wait_ready, wrk  # noqa: E402

SEARCHES = {
    "ktp": {"q": "ktp"},
    "filter-only": {"category": "kependudukan"},
}
PAGES = [
    # key, label, path, cookie
    ("trivial", "trivial view /robots.txt", "/robots.txt", ""),
    ("search", "search ?q=ktp (anonymous)", "/search/?q=ktp", ""),
    # An unknown parameter: the page cache renders the page, the results cache answers.
    ("search_variant", "search ?q=KTP&utm_source=x (results)", "/search/?q=KTP&utm_source=x", ""),
    ("search_live", "search ?q=ktp, live (staff)", "/search/?q=ktp", "sessionid=bench-live"),
]
TABLES = (
    "services_service",
    "services_standardversion",
    "services_requirement",
    "services_procedurestep",
    "services_costitem",
    "services_complaintchannel",
)


# --- In process: the queries and their plans --------------------------------------------------


def _live_request(params: dict[str, str]) -> Any:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get("/search/", params)
    request.COOKIES["sessionid"] = "bench-live"  # live: neither cache
    request.user = AnonymousUser()
    request.csp_nonce = "bench"  # type: ignore[attr-defined]
    return request


def explain(params: dict[str, str], repeat: int) -> dict[str, Any]:
    """Print the plans of the queries a live search runs; their times and the view's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from public_site.views.public import search
    from services.search import SearchForm

    translation.activate("id")
    filters = SearchForm(params).filters()
    request = _live_request(params)
    search(request)  # warm: plans, the form's agencies, templates
    with CaptureQueriesContext(connection) as captured:
        search(_live_request(params))
    queries: list[dict[str, Any]] = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if "services_" not in sql:
            continue  # the form's list of agencies
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        head = sql.lstrip().upper()
        kind = (
            "count"
            if head.startswith("SELECT COUNT")
            else "versions"
            if head.startswith('SELECT "SERVICES_STANDARDVERSION"')
            else "page"
        )
        planning = next((ln for ln in plan if ln.startswith("Planning Time")), "")
        execution = next((ln for ln in plan if ln.startswith("Execution Time")), "")
        print(f"\n  -- {kind} query of {filters.query or params}:\n")
        print("\n".join("    " + line for line in plan))
        queries.append(
            {
                "kind": kind,
                "planning_ms": float(planning.split(":")[1].split()[0]) if planning else None,
                "execution_ms": float(execution.split(":")[1].split()[0]) if execution else None,
            }
        )
    times = []
    for _ in range(repeat):
        t, _response = timed(lambda: search(_live_request(params)))
        times.append(t * 1000)
    view_ms = statistics.median(times)
    sql_ms = sum((q["planning_ms"] or 0) + (q["execution_ms"] or 0) for q in queries)
    print(
        f"\n  live view {params}: median {view_ms:.1f} ms of {repeat} "
        f"(the queries above: {sql_ms:.1f} ms planning + execution; the rest is Python: "
        "the form, the ORM, the template)"
    )
    return {"queries": queries, "view_ms": view_ms, "sql_ms": sql_ms}


# --- gunicorn and wrk ---------------------------------------------------------------------


def measure(args: argparse.Namespace, bench_url: str, total: int) -> dict[str, Any]:
    env = server_env(bench_url)
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
    measured: dict[str, Any] = {}
    try:
        wait_ready(base, proc)
        for _key, label, path, cookie in PAGES:
            if cookie:
                continue
            for _ in range(2 * args.workers):  # warm both workers (and the caches)
                status, size = fetch(base + path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            print(f"  {label}: 200, {size:,} bytes")
        print(
            f"\n  wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency against "
            f"gunicorn ({args.workers} sync workers, DEBUG=0), {total:,} services"
        )
        print(f"    {'round':5} {'page':36} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8}")
        # The machine is shared: each page is measured in `--rounds` interleaved rounds and
        # its best round kept, the baseline's too (a burst of someone else's work then
        # spoils one round, not the figure).
        best: dict[str, Any] = {}
        for round_number in range(1, args.rounds + 1):
            for key, label, path, cookie in PAGES:
                r = wrk(
                    base + path,
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=args.threads,
                    cookie=cookie,
                )
                baseline = best["trivial"].rps if "trivial" in best else r.rps
                print(
                    f"    {round_number:<5} {label:36} {r.rps:9.1f} {r.rps / baseline:7.3f} "
                    f"{r.p50_ms:8.1f} {r.p99_ms:8.1f}" + (f"  ({r.errors})" if r.errors else "")
                )
                if key not in best or r.rps > best[key].rps:
                    best[key] = r
        print(f"    {'best':5} {'(ratio: best / best baseline)':36}")
        for key, label, _path, _cookie in PAGES:
            r = best[key]
            ratio = r.rps / best["trivial"].rps
            print(
                f"    {'':5} {label:36} {r.rps:9.1f} {ratio:7.3f} {r.p50_ms:8.1f} {r.p99_ms:8.1f}"
            )
            measured[key] = {
                "rps": r.rps,
                "ratio": ratio,
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "requests": r.requests,
                "errors": r.errors,
            }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return measured


# --- Main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--services",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="registry sizes, measured in this order in one database (default: 10000 100000)",
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of the live view")
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved wrk rounds per page (best kept)"
    )
    report.add_argument(parser)
    args = parser.parse_args()
    args.services = sorted(set(args.services))

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_search needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
        return 2
    if not shutil.which("wrk"):
        print("bench_search needs wrk (Debian: apt-get install wrk).")
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

    sizes: dict[str, Any] = {}
    for size in args.services:
        t, (total, added) = timed(functools.partial(scale_up, size))
        print(f"\n== {total:,} services ({added:,} cloned, search vectors refreshed in {t:.1f}s)")
        vacuum(*TABLES)
        plans = {name: explain(params, args.repeat) for name, params in SEARCHES.items()}
        cache.clear()  # the server shares CACHE_URL: nothing from the smaller registry
        connections.close_all()
        load = os.getloadavg()
        pages = measure(args, bench_url, total)
        sizes[str(total)] = {
            "services": total,
            "pages": pages,
            "plans": plans,
            "loadavg": list(load),
        }
        print(f"  load average before wrk: {', '.join(f'{x:.2f}' for x in load)}")

    first, last = sizes[min(sizes, key=int)], sizes[max(sizes, key=int)]
    worse: dict[str, float] = {}
    if first is not last:
        print(
            f"\nHow much worse at {last['services']:,} than at {first['services']:,} services "
            "(ratio to the trivial view, smaller / larger; target <= 1.5):"
        )
        for key, label, _path, _cookie in PAGES[1:]:
            worse[key] = first["pages"][key]["ratio"] / last["pages"][key]["ratio"]
            print(f"    {label:36} {worse[key]:6.2f}x")
        for name in SEARCHES:
            a, b = first["plans"][name]["view_ms"], last["plans"][name]["view_ms"]
            print(f"    live view in process, {name:20} {b / a:6.2f}x ({a:.1f} -> {b:.1f} ms)")
    report.save(
        "search",
        args.json,
        args,
        {
            # The smallest size, read by bench/summary.py's search row like bench_public's.
            "services": first["services"],
            "seconds": args.seconds,
            "connections": args.connections,
            "workers": args.workers,
            "pages": first["pages"],
            "largest_services": last["services"],
            "worse_at_largest": worse,
            "sizes": sizes,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
