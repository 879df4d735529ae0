"""Late deliveries written one by one while PostgreSQL restarts (run in its own process by
tests/ops/test_database_restart.py, as an agency's system would: retrying until stored)."""

from __future__ import annotations

import datetime as dt
import sys
import time

from core.db_outage import outlast_outage
from delivery.services import delivery_record
from services.models import Service

WIB = dt.timezone(dt.timedelta(hours=7))


def feed(agency_slug: str, per_service: int, pause: float) -> None:
    """`per_service` late deliveries for each service of the agency, interleaved; each
    recorded (idempotent by reference), retried across restarts, then printed."""
    services = outlast_outage(
        lambda: list(Service.objects.filter(agency__slug=agency_slug).order_by("pk")),
        what="loading services",
        patience=120,
    )
    for i in range(per_service):
        for service in services:
            reference = f"late-{service.pk}-{i}"

            def record(service: Service = service, reference: str = reference) -> None:
                delivery_record(
                    service=service,
                    reference=reference,
                    submitted_at=dt.datetime(2026, 1, 5, 9, tzinfo=WIB),
                    file_complete_at=dt.datetime(2026, 1, 5, 9, tzinfo=WIB),
                    completed_at=dt.datetime(2026, 1, 20, 9, tzinfo=WIB),
                )

            outlast_outage(record, what=f"recording {reference}", patience=120, max_delay=1)
            print(f"fed {reference}", flush=True)
            time.sleep(pause)
    print("fed all", flush=True)
    sys.stdout.flush()
