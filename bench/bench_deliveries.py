"""Deliveries at national scale, on PostgreSQL: ingestion, due-date recomputation, figures.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_deliveries.py --rows 1000000

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
generates N deliveries over the past year, and measures in the same run:

(a) ingestion through the project's bulk path (`delivery.bulk.DeliveryRecorder` when it
    exists, else `delivery.services.delivery_record` in batches), as a ratio of PostgreSQL
    COPY of the same rows (pre-formatted text: the server's best case);
(b) `deliveries_recompute_due` for every open delivery after a holiday is added, as a ratio
    of a plain UPDATE of the same rows;
(c) `performance_figures` for one agency (uncached), against a plain COUNT of its rows.

The rows loaded by COPY carry due dates computed here from the same calendar days; the run
checks them against what the project path stored (and, after the holiday, against what the
recomputation stored), so the ratios compare equal work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402

WIB = dt.timezone(dt.timedelta(hours=7))
SERVICES_PER_AGENCY = (  # (promise value, unit): the common shapes of a standard
    (1, "working_days"),
    (3, "working_days"),
    (5, "working_days"),
    (14, "working_days"),
    (7, "calendar_days"),
)
COLUMNS = [
    "agency_id",
    "unit_id",
    "service_id",
    "version_id",
    "calendar_id",
    "reference",
    "tracking_code",
    "channel",
    "status",
    "submitted_at",
    "file_complete_at",
    "clock_started_at",
    "clock_start_date",
    "completed_at",
    "outcome",
    "refusal_reason",
    "fee_charged",
    "promise_value",
    "promise_unit",
    "promised_cost",
    "paused_working_days",
    "paused_minutes",
    "due_date",
    "due_at",
    "extension_reason",
    "working_days_taken",
    "created_at",
    "updated_at",
]


# --- Database of our own ------------------------------------------------------------------


def _server_url(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_server_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def own_database(url: str) -> Iterator[str]:
    name = f"maklumat_bench_{os.getpid()}"
    _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(url, name)
    finally:
        from django.db import connections

        connections.close_all()
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Timing ----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- The world ------------------------------------------------------------------------------


@dataclass
class Days:
    """The national calendar's days, as the project materialised them."""

    index: dict[dt.date, int]
    working_by_index: dict[int, dt.date]
    day_end: dict[dt.date, dt.datetime]

    @classmethod
    def load(cls, calendar: Any) -> Days:
        from agencies.models import CalendarDay

        index, working, ends = {}, {}, {}
        for day, wdi, is_working, end in CalendarDay.objects.filter(calendar=calendar).values_list(
            "date", "working_day_index", "is_working_day", "day_end"
        ):
            index[day] = wdi
            ends[day] = end
            if is_working:
                working[wdi] = day
        return cls(index, working, ends)

    def due(self, start: dt.date, value: int, unit: str) -> dt.date:
        if unit == "working_days":
            return self.working_by_index[self.index[start] + value]
        return start + dt.timedelta(days=value)

    def taken(self, start: dt.date, end: dt.date) -> int:
        return 0 if end <= start else self.index[end] - self.index[start]


@dataclass
class ServiceInfo:
    agency_id: int
    unit_id: int
    service_id: int
    version_id: int
    slug: str
    value: int
    unit: str
    cost: int


def build_world(agencies: int, now: dt.datetime) -> tuple[Any, list[ServiceInfo]]:
    from agencies.calendars import calendar_national, calendar_rebuild
    from agencies.services import agency_create, unit_create
    from services.services import service_create, standard_draft_create, standard_publish
    from tests.factories import complete_version_data

    calendar = calendar_national()
    calendar_rebuild(calendar, span=(now.year - 2, now.year + 2), notify=False)
    services: list[ServiceInfo] = []
    for a in range(agencies):
        agency = agency_create(name=f"Dinas Bench {a}", level="city", slug=f"bench-{a}")
        unit = unit_create(agency=agency, name=f"Unit {a}", slug=f"unit-{a}")
        for s, (value, unit_of_time) in enumerate(SERVICES_PER_AGENCY):
            service = service_create(
                agency=agency, unit=unit, name=f"Layanan {a}-{s}", slug=f"svc-{s}"
            )
            data, children = complete_version_data(
                processing_time_value=value,
                processing_time_unit=unit_of_time,
                is_free=s % 2 == 0,
            )
            if s % 2:
                children["cost_items"] = [
                    {"name": "Retribusi", "amount": 25000 * s, "legal_basis": "Perda"}
                ]
            version = standard_draft_create(service=service, data=data, children=children)
            version = standard_publish(
                version=version, acting_user=None, published_at=now - dt.timedelta(days=400)
            )
            services.append(
                ServiceInfo(
                    agency.pk,
                    unit.pk,
                    service.pk,
                    version.pk,
                    service.slug,
                    value,
                    unit_of_time,
                    version.total_cost,
                )
            )
    return calendar, services


@dataclass
class Row:
    info: ServiceInfo
    reference: str
    tracking_code: str
    submitted_at: dt.datetime
    file_complete_at: dt.datetime
    completed_at: dt.datetime | None
    fee: int
    clock_start_date: dt.date
    due_date: dt.date
    due_at: dt.datetime
    working_days_taken: int | None

    @property
    def status(self) -> str:
        return "open" if self.completed_at is None else "completed"

    def as_item(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "service": self.info.slug,
            "submitted_at": self.submitted_at,
            "file_complete_at": self.file_complete_at,
            "completed_at": self.completed_at,
            "outcome": "granted" if self.completed_at else "",
            "fee_charged": self.fee,
            "channel": "counter",
        }


ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def generate(n: int, services: list[ServiceInfo], days: Days, now: dt.datetime) -> list[Row]:
    rng = random.Random(20260101)
    rows: list[Row] = []
    counters: dict[int, int] = {}
    for _ in range(n):
        info = rng.choice(services)
        counters[info.agency_id] = counters.get(info.agency_id, 0) + 1
        submitted_day = (now - dt.timedelta(days=rng.randint(1, 365))).astimezone(WIB).date()
        submitted = dt.datetime.combine(
            submitted_day, dt.time(rng.randint(8, 14), rng.randrange(0, 60, 5)), tzinfo=WIB
        )
        complete = submitted + dt.timedelta(days=1) if rng.random() < 0.1 else submitted
        start = complete.astimezone(WIB).date()
        due = days.due(start, info.value, info.unit)
        completed: dt.datetime | None = None
        roll = rng.random()
        if roll < 0.88:
            extra = rng.randint(0, info.value) if roll < 0.75 else info.value + rng.randint(1, 9)
            done_day = days.due(start, extra, info.unit)
            completed = dt.datetime.combine(done_day, dt.time(15, 0), tzinfo=WIB)
            if completed <= complete:
                completed = complete + dt.timedelta(hours=1)
            if completed > now:
                completed = None
        taken = None if completed is None else days.taken(start, completed.astimezone(WIB).date())
        fee = info.cost + (50000 if rng.random() < 0.05 else 0)
        rows.append(
            Row(
                info=info,
                reference=f"B-{counters[info.agency_id]:08d}",
                tracking_code="".join(rng.choice(ALPHABET) for _ in range(10)),
                submitted_at=submitted,
                file_complete_at=complete,
                completed_at=completed,
                fee=fee,
                clock_start_date=start,
                due_date=due,
                due_at=days.day_end[due],
                working_days_taken=taken,
            )
        )
    return rows


def copy_text(rows: list[Row], calendar_id: int, now: dt.datetime) -> bytes:
    def value(v: Any) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        return str(v)

    stamp = now.isoformat()
    out = io.StringIO()
    for r in rows:
        i = r.info
        fields = (
            i.agency_id, i.unit_id, i.service_id, i.version_id, calendar_id, r.reference,
            r.tracking_code, "counter", r.status, r.submitted_at, r.file_complete_at,
            r.file_complete_at, r.clock_start_date, r.completed_at,
            "granted" if r.completed_at else "", "", r.fee, i.value, i.unit, i.cost, 0, 0,
            r.due_date, r.due_at, "", r.working_days_taken, stamp, stamp,
        )  # fmt: skip
        out.write("\t".join(value(f) for f in fields))
        out.write("\n")
    return out.getvalue().encode()


def copy_rows(data: bytes) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY delivery_servicedelivery ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])


def truncate() -> None:
    from django.db import connection

    from delivery.partitions import truncate_sql

    with connection.cursor() as cursor:
        cursor.execute(truncate_sql())


def make_months(rows: list[Row]) -> None:
    """The month partitions of the generated rows (the migration made this month and the
    next ones only; older rows would all land in the DEFAULT partition). Nothing to do
    where deliveries are not partitioned (SQLite)."""
    from core.partitioning import ensure_partitions
    from delivery.partitions import DELIVERIES

    first = min(r.submitted_at for r in rows).astimezone(dt.UTC).date().replace(day=1)
    today = dt.datetime.now(dt.UTC).date()
    months = (today.year - first.year) * 12 + today.month - first.month + 3
    ensure_partitions([DELIVERIES.table], today=first, months_ahead=months)


# --- (a) the project's ingestion path ----------------------------------------------------------


def project_ingest(rows: list[Row], path: str) -> str:
    from django.db import transaction

    if path == "bulk":
        from agencies.models import Agency
        from delivery.bulk import DeliveryRecorder

        by_agency: dict[int, list[Row]] = {}
        for r in rows:
            by_agency.setdefault(r.info.agency_id, []).append(r)
        for agency_id, agency_rows in by_agency.items():
            recorder = DeliveryRecorder(agency=Agency.objects.get(pk=agency_id), acting_user=None)
            items = [(n, r.as_item()) for n, r in enumerate(agency_rows)]
            # The bulk API takes at most 10,000 items per request: send it requests of that size.
            for start in range(0, len(items), 10_000):
                results = recorder.record(items[start : start + 10_000])
                errors = [x for x in results if x.result == "error"]
                if errors:
                    raise SystemExit(f"bulk path refused rows: {errors[:3]}")
        return "delivery.bulk.DeliveryRecorder (API requests of 10,000 items)"

    from delivery.services import delivery_record
    from services.models import Service

    services = {s.pk: s for s in Service.objects.select_related("unit__agency")}
    for start in range(0, len(rows), 1000):
        with transaction.atomic():
            for r in rows[start : start + 1000]:
                delivery_record(
                    service=services[r.info.service_id],
                    reference=r.reference,
                    submitted_at=r.submitted_at,
                    file_complete_at=r.file_complete_at,
                    completed_at=r.completed_at,
                    fee_charged=r.fee,
                )
    return "delivery.services.delivery_record, batches of 1,000 per transaction"


def check_stored(rows: list[Row], label: str) -> int:
    """Rows whose stored due date, due moment, time taken or status differ from ours."""
    from delivery.models import ServiceDelivery

    expected = {
        (r.info.agency_id, r.reference): (r.due_date, r.due_at, r.working_days_taken, r.status)
        for r in rows
    }
    mismatches = 0
    for agency_id, ref, *stored in ServiceDelivery.objects.values_list(
        "agency_id", "reference", "due_date", "due_at", "working_days_taken", "status"
    ).iterator(chunk_size=20_000):
        want = expected.get((agency_id, ref))
        if want is not None and tuple(stored) != want:
            mismatches += 1
            if mismatches <= 3:
                print(f"  {label} mismatch {ref}: stored {tuple(stored)} expected {want}")
    return mismatches


# --- Main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="deliveries to generate")
    parser.add_argument("--agencies", type=int, default=20)
    parser.add_argument(
        "--ingest-rows",
        type=int,
        default=None,
        help="rows ingested through the project path for (a) (default: all with the bulk "
        "path, 20,000 with delivery_record); the rest is loaded by COPY",
    )
    parser.add_argument("--path", choices=["auto", "bulk", "record"], default="auto")
    report.add_argument(parser)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print(
            "bench_deliveries needs DATABASE_URL on a PostgreSQL server "
            "(e.g. the env of scripts/test.sh or a local cluster); see bench/README.md."
        )
        return 2

    with own_database(url) as bench_url:
        os.environ["DATABASE_URL"] = bench_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("MAKLUMAT_TESTING", "1")  # a throwaway secret key, no HTTPS rules
        os.environ["DEBUG"] = "0"  # no query log in memory
        os.environ.setdefault("CACHE_URL", "locmemcache://bench")
        import django

        django.setup()
        return run(args)


def run(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from agencies.models import CalendarException
    from delivery.models import ServiceDelivery
    from delivery.selectors import agency_league, performance_by_month, performance_figures
    from delivery.services import deliveries_recompute_due

    path = args.path
    if path == "auto":
        try:
            import delivery.bulk  # noqa: F401

            path = "bulk"
        except ImportError:
            path = "record"
    ingest_n = args.ingest_rows or (args.rows if path == "bulk" else min(args.rows, 20_000))
    ingest_n = min(ingest_n, args.rows)

    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; {args.rows:,} rows")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    now = timezone.now()
    calendar, services = build_world(args.agencies, now)
    days = Days.load(calendar)
    t, rows = timed(lambda: generate(args.rows, services, days, now))
    print(f"  generated {len(rows):,} rows in {t:.1f}s")
    make_months(rows)
    sample, rest = rows[:ingest_n], rows[ingest_n:]
    sample_text = copy_text(sample, calendar.pk, now)
    vacuum("delivery_servicedelivery")

    # (a) COPY of the sample, then the same rows through the project path.
    copy_s, _ = timed(lambda: copy_rows(sample_text))
    truncate()
    vacuum("delivery_servicedelivery")
    project_s, label = timed(lambda: project_ingest(sample, path))
    bad = check_stored(sample, "ingest")
    if rest:
        t, _ = timed(lambda: copy_rows(copy_text(rest, calendar.pk, now)))
        print(f"  loaded the other {len(rest):,} rows by COPY in {t:.1f}s")
    vacuum("delivery_servicedelivery", "agencies_calendarday")

    # (b) a holiday on the earliest working day any open delivery is due: every open one moves.
    open_rows = ServiceDelivery.objects.filter(status="open")
    first_due = min(d for d in open_rows.values_list("due_date", flat=True) if d)
    holiday = first_due
    working_days = set(days.working_by_index.values())
    while holiday not in working_days:
        holiday += dt.timedelta(days=1)
    CalendarException.objects.create(
        calendar=calendar, date=holiday, kind="holiday", name="Cuti bersama tambahan"
    )
    from agencies.calendars import calendar_rebuild

    calendar_rebuild(calendar, span=(now.year - 2, now.year + 2), notify=False)
    vacuum("agencies_calendarday")
    open_count = open_rows.filter(due_date__gte=holiday).count()
    plain_sql = (
        "UPDATE delivery_servicedelivery SET due_date = due_date + 1, "
        "due_at = due_at + interval '1 day' WHERE calendar_id = %s "
        "AND status IN ('open', 'paused') AND extended_due_date IS NULL "
        "AND clock_start_date IS NOT NULL AND due_date >= %s"
    )

    def plain_update() -> int:
        with connection.cursor() as cursor:
            cursor.execute(plain_sql, [calendar.pk, holiday])
            return cursor.rowcount

    plain_times, recompute_times = [], []
    moved = 0
    for _ in range(2):
        t, plain_n = timed(plain_update)
        plain_times.append(t)
        vacuum("delivery_servicedelivery")
        t, moved = timed(
            lambda: deliveries_recompute_due(calendar_ids=[calendar.pk], since=holiday)
        )
        recompute_times.append(t)
        vacuum("delivery_servicedelivery")
    assert plain_n == moved == open_count, (plain_n, moved, open_count)
    new_days = Days.load(calendar)
    for r in rows:
        if r.completed_at is None and r.due_date >= holiday:
            r.due_date = new_days.due(r.clock_start_date, r.info.value, r.info.unit)
            r.due_at = new_days.day_end[r.due_date]
    bad_after = check_stored([r for r in rows if r.completed_at is None], "recompute")

    # (c) the figures of one agency, uncached, against a plain COUNT of its rows.
    agency_id = services[0].agency_id
    from agencies.models import Agency

    agency = Agency.objects.get(pk=agency_id)
    today = timezone.localdate()
    since = today - dt.timedelta(days=365)

    def count_rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM delivery_servicedelivery WHERE agency_id = %s", [agency_id]
            )
            return int(cursor.fetchone()[0])

    def best(fn: Callable[[], Any], runs: int = 5) -> float:
        return statistics.median(timed(fn)[0] for _ in range(runs))

    count_s = best(count_rows)
    figures_s = best(
        lambda: performance_figures(agency=agency, since=since, until=today, use_cache=False)
    )
    months_s = best(lambda: performance_by_month(agency=agency, until=today))
    league_s = best(lambda: agency_league(since=since, until=today))
    figures = performance_figures(agency=agency, since=since, until=today, use_cache=False)

    copy_rate = len(sample) / copy_s
    project_rate = len(sample) / project_s
    print()
    print(f"(a) ingestion of {len(sample):,} rows through {label}")
    print(f"    COPY    {copy_s:8.2f}s  {copy_rate:12,.0f} rows/s")
    print(f"    project {project_s:8.2f}s  {project_rate:12,.0f} rows/s")
    print(f"    ratio   {project_s / copy_s:8.1f}x COPY (target <= 5x); due-date mismatches: {bad}")
    print(f"(b) recompute due dates of {open_count:,} open deliveries after a holiday on {holiday}")
    print(f"    plain UPDATE {min(plain_times):8.2f}s")
    print(f"    recompute    {min(recompute_times):8.2f}s")
    print(
        f"    ratio        {min(recompute_times) / min(plain_times):8.1f}x the plain UPDATE "
        f"(target <= 2x); mismatches after: {bad_after}"
    )
    agency_rows = count_rows()
    print(f"(c) performance figures of one agency ({agency_rows:,} deliveries, one year)")
    print(f"    plain COUNT(*)       {count_s * 1000:8.1f} ms")
    print(f"    performance_figures  {figures_s * 1000:8.1f} ms ({figures_s / count_s:.1f}x)")
    print(f"    performance_by_month {months_s * 1000:8.1f} ms")
    print(f"    agency_league (all)  {league_s * 1000:8.1f} ms")
    print(
        f"    on time {figures.on_time:,} of {figures.completed:,}, median "
        f"{figures.median_days} / p90 {figures.p90_days} working days, "
        f"{figures.open_overdue:,} open overdue"
    )
    report.save(
        "deliveries",
        args.json,
        args,
        {
            "ingest_rows": len(sample),
            "ingest_path": label,
            "copy_s": copy_s,
            "project_s": project_s,
            "ingest_ratio": project_s / copy_s,
            "ingest_mismatches": bad,
            "recompute_open": open_count,
            "plain_update_s": min(plain_times),
            "recompute_s": min(recompute_times),
            "recompute_ratio": min(recompute_times) / min(plain_times),
            "recompute_mismatches": bad_after,
            "figures_ms": figures_s * 1000,
            "count_ms": count_s * 1000,
        },
    )
    return 1 if bad or bad_after else 0


if __name__ == "__main__":
    sys.exit(main())
