"""The bulk services export against PostgreSQL COPY, and its memory.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_export.py --services 100000

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
migrates it, seeds the demo registry and scales it up to N services with a published
standard by cloning the demo's (bench_public.scale_up: services, versions and their
requirements, steps, costs and complaint channels, in set-based SQL). Then, best of two
runs each:

- baseline: `COPY (SELECT ...) TO STDOUT WITH CSV HEADER` of the same rows and columns (the
  14 components flattened, child rows joined by string_agg in the same order), read whole
  through psycopg: the server's best case;
- the project: the `/opendata/datasets/services.csv` view (opendata.views.datasets), its
  StreamingHttpResponse consumed to the end, as a client would.

It prints both times, the ratio, the bytes and rows of each (which must agree), and the
export's memory: the peak of Python allocations (tracemalloc, in a third, untimed run), the
same peak after the first tenth of the rows (flat memory: the two are close), and the
process's maximum resident size. `--xlsx` also times the XLSX download.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import own_database, timed, vacuum  # noqa: E402

# The same columns as opendata.exports.SERVICE_COLUMNS, from SQL.
COPY_SQL = """
COPY (
  SELECT s.id, s.slug, s.name, s.category,
         (SELECT string_agg(c, ' | ') FROM jsonb_array_elements_text(s.channels) AS c),
         a.slug, a.name, u.id, u.name, v.id, v.number, v.published_at, v.decree_number,
         v.decree_date, v.effective_date, v.next_review_date,
         (SELECT string_agg(r.name, ' | ' ORDER BY r.position, r.id)
            FROM services_requirement r WHERE r.version_id = v.id),
         (SELECT string_agg(p.actor || ': ' || p.description, ' | ' ORDER BY p.position, p.id)
            FROM services_procedurestep p WHERE p.version_id = v.id),
         v.processing_time_value, v.processing_time_unit, v.clock_start, v.is_free,
         v.total_cost,
         (SELECT string_agg(c.name || ': ' || c.amount, ' | ' ORDER BY c.position, c.id)
            FROM services_costitem c WHERE c.version_id = v.id),
         v.product,
         (SELECT string_agg(k.kind || ': ' || k.value, ' | ' ORDER BY k.position, k.id)
            FROM services_complaintchannel k WHERE k.version_id = v.id),
         (SELECT string_agg(l, ' | ') FROM jsonb_array_elements_text(v.legal_basis) AS l),
         (SELECT string_agg(f, ' | ') FROM jsonb_array_elements_text(v.facilities) AS f),
         v.facilities_note, v.staff_competence, v.internal_supervision, v.staff_count,
         v.service_guarantee, v.safety_security, v.performance_evaluation,
         a.open_data_licence
  FROM services_standardversion v
  JOIN services_service s ON s.id = v.service_id
  JOIN agencies_agency a ON a.id = s.agency_id
  JOIN agencies_unit u ON u.id = s.unit_id
  WHERE v.status = 'published'
  ORDER BY v.id
) TO STDOUT WITH CSV HEADER
"""


def copy_baseline() -> tuple[int, int]:
    """(bytes, lines) of the COPY output, read whole."""
    from django.db import connection

    size = lines = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(COPY_SQL) as copy:
            for chunk in copy:
                size += len(chunk)
                lines += bytes(chunk).count(b"\n")
    return size, lines


def _download(extension: str) -> tuple[int, int]:
    """(bytes, newlines) of the download view's streamed answer."""
    from django.test import RequestFactory

    from opendata.views.datasets import dataset_download

    request = RequestFactory().get(f"/opendata/datasets/services.{extension}")
    response: Any = dataset_download(request, "services", extension)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines


def export_memory(total_rows: int) -> tuple[int, int]:
    """(peak bytes over the whole CSV export, peak bytes after its first tenth)."""
    from opendata.exports import SERVICE_COLUMNS, service_rows
    from opendata.formats import csv_chunks

    tenth = max(1, total_rows // 10)
    seen = 0

    def counted() -> Any:
        nonlocal seen
        for row in service_rows():
            seen += 1
            yield row

    tracemalloc.start()
    early_peak = 0
    for _chunk in csv_chunks(SERVICE_COLUMNS, counted()):
        if not early_peak and seen >= tenth:
            early_peak = tracemalloc.get_traced_memory()[1]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, early_peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX download")
    report.add_argument(parser)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_export needs DATABASE_URL on a PostgreSQL server; see bench/README.md.")
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
    from bench_public import scale_up
    from django.core.management import call_command
    from django.db import connection

    import services.search
    from demo.management.commands.seed_demo import seed_registry
    from services.models import StandardVersion

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    t, _ = timed(seed_registry)
    print(f"  demo seeded in {t:.1f}s")
    # The export does not read the search vectors: skip their refresh.
    services.search.service_search_refresh = lambda **kwargs: None  # type: ignore[assignment]
    t, (total, added) = timed(lambda: scale_up(args.services))
    rows = StandardVersion.objects.filter(status="published").count()
    print(f"  scaled to {total:,} services, {rows:,} published ({added:,} cloned) in {t:.1f}s")
    vacuum(
        "services_service",
        "services_standardversion",
        "services_requirement",
        "services_procedurestep",
        "services_costitem",
        "services_complaintchannel",
    )

    copy_times, view_times = [], []
    for _ in range(2):
        t, copy_out = timed(copy_baseline)
        copy_times.append(t)
        t, view_out = timed(lambda: _download("csv"))
        view_times.append(t)
    copy_best, view_best = min(copy_times), min(view_times)
    print(f"\nServices CSV, {rows:,} rows (best of two runs each)")
    print(
        f"  COPY ... TO STDOUT   {copy_best:7.2f}s  {copy_out[0]:>13,} bytes  {copy_out[1]:,} lines"
    )
    print(
        f"  /opendata/ CSV view  {view_best:7.2f}s  {view_out[0]:>13,} bytes  {view_out[1]:,} lines"
    )
    print(f"  ratio (view / COPY)  {view_best / copy_best:7.2f}x")
    peak, early = export_memory(rows)
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  memory: Python peak {peak / 2**20:.1f} MiB over the whole export, "
        f"{early / 2**20:.1f} MiB after the first tenth; max RSS of the process {maxrss_mb:.0f} MiB"
    )
    if args.xlsx:
        t, xlsx_out = timed(lambda: _download("xlsx"))
        print(f"  XLSX download        {t:7.2f}s  {xlsx_out[0]:>13,} bytes")
    report.save(
        "export",
        args.json,
        args,
        {
            "rows": rows,
            "copy_s": copy_best,
            "view_s": view_best,
            "ratio": view_best / copy_best,
            "lines_match": view_out[1] == copy_out[1],
            "peak_mib": peak / 2**20,
            "early_peak_mib": early / 2**20,
            "maxrss_mib": maxrss_mb,
        },
    )
    return 0 if view_out[1] == copy_out[1] else 1


if __name__ == "__main__":
    sys.exit(main())
