"""The flagship service of the demo: KTP-el at Disdukcapil Kota Bandung gets enough
completed requests in every one of the last 12 months that its on-time rate, its monthly
chart and the staff dashboard's chart show (a month shows a bar from MIN_SAMPLE completed
requests).

Recorded through `delivery_record` like the other demo deliveries. Idempotent and
clock-stable: references are "DEMO-KTP-<yyyymm>-<n>", one set per calendar month, decided
by a seeded random sequence that does not depend on the database; a reference already
recorded is skipped, so a second run minutes later creates nothing (a run next month adds
that month's requests).
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agencies.calendars import CalendarDays, calendar_for_unit
from delivery.models import Outcome, ServiceDelivery
from delivery.services import delivery_record
from demo import data
from demo.deliveries import _add_days, _in_force, _local, _versions, ensure_national_calendar
from services.models import Service, TimeUnit

FLAGSHIP_AGENCY = data.BANDUNG
FLAGSHIP_SERVICE = "ktp-el"
PREFIX = "DEMO-KTP"
MONTHS = 12
SEED = 20251
LATE_SHARE = 0.12


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def per_month() -> int:
    """Enough completed requests a month for the month's rate to show, and a few more."""
    return int(settings.MAKLUMAT["MIN_SAMPLE"]) + 6


def seed_flagship(*, now: dt.datetime | None = None, seed: int = SEED) -> int:
    """Record the flagship's missing monthly requests. Returns how many were created."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ensure_national_calendar(today)
    service = (
        Service.objects.filter(agency__slug=FLAGSHIP_AGENCY, slug=FLAGSHIP_SERVICE)
        .select_related("agency", "unit__agency", "unit__calendar", "agency__calendar")
        .first()
    )
    if service is None:
        return 0
    versions = _versions([service]).get(service.pk, [])
    if not versions:
        return 0
    calendar = calendar_for_unit(service.unit)
    days = CalendarDays.preloaded(calendar)
    offset = calendar.utc_offset_hours
    existing = set(
        ServiceDelivery.objects.filter(
            agency=service.agency, reference__startswith=f"{PREFIX}-"
        ).values_list("reference", flat=True)
    )
    # The requests must be complete by now: submitted up to two days ago.
    last_day = today - dt.timedelta(days=2)
    count = per_month()
    created = 0
    with transaction.atomic():
        for back in range(MONTHS - 1, -1, -1):
            first = _month_start(today, back)
            rng = random.Random(f"{seed}:{first.isoformat()}")  # noqa: S311 - demo data
            working = [
                first + dt.timedelta(days=n)
                for n in range(31)
                if (first + dt.timedelta(days=n)).month == first.month
                and first + dt.timedelta(days=n) <= last_day
                and (day := days.day_on(first + dt.timedelta(days=n))) is not None
                and day.is_working_day
            ]
            for n in range(1, count + 1):
                reference = f"{PREFIX}-{first:%Y%m}-{n:02d}"
                late = rng.random() < LATE_SHARE
                pick = rng.random()
                hour, minute = rng.randint(8, 13), rng.randrange(0, 60, 5)
                extra = rng.randint(1, 4)
                if reference in existing or not working:
                    continue
                submitted_day = working[int(pick * len(working))]
                submitted_at = _local(submitted_day, hour, minute, offset)
                version = _in_force(versions, submitted_at)
                if version is None or version.processing_time_unit != TimeUnit.WORKING_DAYS:
                    continue
                promised = version.processing_time_value or 1
                taken = promised + extra if late else promised
                done_day = _add_days(days, submitted_day, taken, working=True)
                # Completed before today: a run later today decides the same way.
                if done_day is None or done_day >= today:
                    continue
                completed_at = _local(done_day, 14, 0, offset)
                delivery_record(
                    service=service,
                    reference=reference,
                    submitted_at=submitted_at,
                    file_complete_at=submitted_at,
                    completed_at=completed_at,
                    outcome=Outcome.GRANTED,
                    fee_charged=version.total_cost,
                    channel="counter",
                )
                created += 1
    return created
