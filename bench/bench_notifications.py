"""The notification drainer against a plain SMTP loop, on PostgreSQL and a local SMTP sink.

    source /tmp/your-env.sh   # a DATABASE_URL on a PostgreSQL server (see bench/README.md)
    .venv/bin/python bench/bench_notifications.py --messages 10000

Creates its own database next to the one DATABASE_URL names (and drops it at the end),
starts an aiosmtpd sink on a free loopback port (in a child process, counting messages), and:

1. writes N late deliveries of one unit (one contact address) and runs the sweep's
   late-delivery rule, which writes N breaches and their outbox rows in the same
   transaction; the fan-out rows are expanded to recipients (untimed): N pending emails;
2. times `notifications.outbox.drain()` until nothing is due, and checks that the sink
   received N messages and every row is `sent`;
3. times sending the same N messages (rendered beforehand by `notifications.channels.
   email_for`, untimed; the rendering time is printed too) in a plain smtplib loop over one
   connection: the floor.

It prints both throughputs and their ratio.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import smtplib
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402
from bench_deliveries import build_world, own_database, timed, vacuum  # noqa: E402

DELIVERY = "delivery_servicedelivery"
CONTACT = "layanan@unit-bench.test"

LATE_SQL = f"""
INSERT INTO {DELIVERY} (agency_id, unit_id, service_id, version_id, calendar_id, reference,
    tracking_code, channel, status, submitted_at, file_complete_at, clock_started_at,
    clock_start_date, completed_at, outcome, refusal_reason, fee_charged, promise_value,
    promise_unit, promised_cost, paused_working_days, paused_minutes, due_date, due_at,
    extension_reason, working_days_taken, created_at, updated_at)
SELECT %(agency)s, %(unit)s, %(service)s, %(version)s, %(calendar)s, 'L' || i, 'L' || i,
       'counter', 'completed', sub, sub, sub, sub::date, sub + interval '8 days', 'granted', '',
       %(cost)s, 5, 'calendar_days', %(cost)s, 0, 0, (sub + interval '5 days')::date,
       sub + interval '5 days', '', 8, %(now)s, %(now)s
FROM (SELECT i, %(now)s - interval '20 days' - (i %% 200) * interval '1 hour' AS sub
      FROM generate_series(1, %(n)s) AS i) g
"""


class Handler:
    """aiosmtpd handler: accepts and counts every message."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 Message accepted"


def serve(port: int, counter: Any, ready: Any, stop: Any) -> None:
    """The sink's own process (its own interpreter: it does not share our GIL)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from aiosmtpd.controller import Controller

    controller = Controller(Handler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    """A local SMTP sink in a child process; `count` is the messages it accepted."""

    def __init__(self, port: int) -> None:
        self.counter = multiprocessing.Value("q", 0)
        self.ready = multiprocessing.Event()
        self.stop_event = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=serve, args=(port, self.counter, self.ready, self.stop_event), daemon=True
        )

    def start(self) -> None:
        self.process.start()
        if not self.ready.wait(30):
            raise SystemExit("the SMTP sink did not start")

    def stop(self) -> None:
        self.stop_event.set()
        self.process.join(10)

    @property
    def count(self) -> int:
        return int(self.counter.value)

    @count.setter
    def count(self, value: int) -> None:
        self.counter.value = value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="pending emails (N)")
    parser.add_argument(
        "--profile", metavar="PATH", help="also write a cProfile of drain() to PATH (pstats)"
    )
    report.add_argument(parser)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench_notifications needs DATABASE_URL on PostgreSQL; see bench/README.md.")
        return 2
    port = free_port()
    sink = Sink(port)
    sink.start()
    try:
        with own_database(url) as bench_url:
            os.environ["DATABASE_URL"] = bench_url
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
            os.environ.setdefault("MAKLUMAT_TESTING", "1")
            os.environ["DEBUG"] = "0"
            os.environ.setdefault("CACHE_URL", "locmemcache://bench")
            os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
            import django

            django.setup()
            return run(args, sink, port)
    finally:
        sink.stop()


def run(args: argparse.Namespace, sink: Sink, port: int) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from agencies.models import Unit
    from notifications import registry
    from notifications.channels import email_for
    from notifications.models import Notification
    from notifications.outbox import drain, expand_fanouts
    from oversight.sweep import sweep

    # N breaches of one unit in one sweep are a "burst" that the fan-out holds for the unit's
    # daily digest (notifications.outbox.conf DIGEST_BURST_AT); this benchmark measures one
    # email per breach, as a unit that chose one email each receives them.
    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}), "DIGEST_BURST_AT": 0}
    n = args.messages
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}; SMTP sink :{port}")
    t, _ = timed(lambda: call_command("migrate", verbosity=0))
    print(f"  migrated in {t:.1f}s")
    now = timezone.now()
    calendar, services = build_world(1, now)
    info = services[0]
    Unit.objects.filter(pk=info.unit_id).update(contact_emails=[CONTACT])
    with connection.cursor() as cursor:
        cursor.execute(
            LATE_SQL,
            {
                "agency": info.agency_id,
                "unit": info.unit_id,
                "service": info.service_id,
                "version": info.version_id,
                "calendar": calendar.pk,
                "cost": info.cost,
                "now": now,
                "n": n,
            },
        )
    vacuum(DELIVERY)
    t, result = timed(lambda: sweep(now=now, kinds=["late_delivery"]))
    print(f"  sweep wrote {result.created.get('late_delivery', 0):,} breaches in {t:.1f}s")

    def expand_all() -> None:
        while expand_fanouts(now=now, limit=1000):
            pass

    t, _ = timed(expand_all)
    pending = Notification.objects.filter(channel="email", status="pending").exclude(recipient="")
    count = pending.count()
    print(f"  fan-outs expanded in {t:.1f}s: {count:,} pending emails")
    if count != n:
        print(f"  expected {n:,} pending emails, found {count:,}")
        return 1
    vacuum("notifications_notification")
    rows = list(
        pending.select_related("user", "unit__agency")
        .prefetch_related(registry.subject_prefetch())
        .order_by("pk")
    )

    # The messages, rendered once (untimed for the floor; the time is shown).
    render_s, messages = timed(lambda: [email_for(r).message() for r in rows])
    payloads = [m.as_bytes(linesep="\r\n") for m in messages]

    # (1) the project's drainer.
    sink.count = 0
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        drain_s, drained = timed(lambda: profiler.runcall(drain, now=timezone.now()))
        profiler.dump_stats(args.profile)
    else:
        drain_s, drained = timed(lambda: drain(now=timezone.now()))
    received_drain = sink.count
    sent = Notification.objects.filter(channel="email", status="sent").count()

    # (2) the floor: the same messages, one connection, a plain loop.
    sink.count = 0

    def plain_loop() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for payload in payloads:
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [CONTACT], payload)

    loop_s, _ = timed(plain_loop)
    received_loop = sink.count

    print()
    print(f"{n:,} pending email notifications to a local aiosmtpd sink")
    print(
        f"    drain()          {drain_s:8.2f}s {n / drain_s:10,.0f} msg/s "
        f"(claimed {drained.claimed:,}, outcomes {dict(drained.outcomes)}, "
        f"sink received {received_drain:,}, rows sent {sent:,})"
    )
    print(
        f"    plain smtplib    {loop_s:8.2f}s {n / loop_s:10,.0f} msg/s "
        f"(one connection, pre-rendered; sink received {received_loop:,})"
    )
    print(f"    ratio            {drain_s / loop_s:8.1f}x the plain loop's time")
    print(
        f"    (rendering the {n:,} emails alone, email_for + MIME: {render_s:.2f}s, "
        f"{n / render_s:,.0f} msg/s)"
    )
    ok = received_drain == n and sent == n and received_loop == n
    report.save(
        "notifications",
        args.json,
        args,
        {
            "messages": n,
            "drain_s": drain_s,
            "loop_s": loop_s,
            "drain_rate": n / drain_s,
            "loop_rate": n / loop_s,
            "ratio": drain_s / loop_s,
            "render_s": render_s,
            "all_delivered": ok,
        },
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
