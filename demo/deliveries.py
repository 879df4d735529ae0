"""Demo deliveries: several thousand realistic requests over the past year.

Recorded through `delivery_record` (and `delivery_pause`, `delivery_extend`), so every due
date, clock start and time taken is the project's own. Deterministic for a seed, and
idempotent: references are "DEMO-<agency slug>-<n>", and a reference already recorded is
skipped, so re-running changes nothing.

The mix: most on time; some late, a few very late; some overcharged (including fees asked
on free services); some still open, within time or overdue; a few paused, withdrawn,
waiting for a complete file, or extended.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agencies.calendars import (
    CalendarDays,
    calendar_for_unit,
    calendar_national,
    calendar_rebuild,
)
from agencies.models import Calendar, CalendarDay, Membership, Role
from delivery.models import DeliveryStatus, Outcome, ServiceDelivery
from delivery.services import delivery_extend, delivery_pause, delivery_record
from demo import data
from services.models import ClockStart, Service, StandardVersion, TimeUnit, VersionStatus

DEFAULT_SEED = 20250
REFERENCE_PREFIX = "DEMO"
WINDOW_DAYS = 365

PAUSE_REASONS = [
    "Menunggu pemohon melengkapi surat pengantar RT/RW.",
    "Menunggu pemohon membawa dokumen asli untuk verifikasi.",
    "Menunggu perbaikan data pada formulir permohonan.",
]
EXTENSION_REASONS = [
    "Verifikasi lapangan memerlukan waktu tambahan karena cuaca.",
    "Gangguan jaringan pada sistem pusat selama tiga hari kerja.",
    "Menunggu konfirmasi data dari instansi lain.",
]


def _add_days(days_of: CalendarDays, start: dt.date, days: int, *, working: bool) -> dt.date | None:
    """`days` (working or calendar) days after `start`, read off the one clock's preloaded
    calendar; None outside its materialised span."""
    if not working:
        return start + dt.timedelta(days=days)
    day = days_of.day_on(start)
    target = None if day is None else days_of.working_day(day.working_day_index + days)
    return None if target is None else target.date


@dataclass
class _Spec:
    service: Service
    reference: str
    submitted_at: dt.datetime
    file_complete_at: dt.datetime | None
    completed_at: dt.datetime | None
    outcome: str
    fee_charged: int
    channel: str
    pause_at: dt.datetime | None = None
    extend_days: int = 0
    extend_reason: str = ""
    notes: list[str] = field(default_factory=list)


def ensure_national_calendar(today: dt.date) -> Calendar:
    """The national calendar, materialised from two years back to next year if missing."""
    calendar = calendar_national()
    first, last = today.year - 2, today.year + 1
    present = CalendarDay.objects.filter(
        calendar=calendar, date__in=[dt.date(first, 1, 1), dt.date(last, 12, 31)]
    ).count()
    if present < 2:
        calendar_rebuild(calendar, span=(first, last), notify=False)
    return calendar


def _local(day: dt.date, hour: int, minute: int, offset_hours: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute)).replace(
        tzinfo=dt.timezone(dt.timedelta(hours=offset_hours))
    )


def _versions(services: list[Service]) -> dict[int, list[StandardVersion]]:
    versions: dict[int, list[StandardVersion]] = {}
    for version in StandardVersion.objects.filter(
        service__in=services,
        status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED],
        published_at__isnull=False,
    ).order_by("published_at"):
        versions.setdefault(version.service_id, []).append(version)
    return versions


def _in_force(versions: list[StandardVersion], at: dt.datetime) -> StandardVersion | None:
    """The same rule as delivery.services.version_in_force, over preloaded rows."""
    chosen = None
    for version in versions:
        published = version.published_at is not None and version.published_at <= at
        if published and (version.superseded_at is None or version.superseded_at > at):
            chosen = version
    return chosen


def _fee(rng: random.Random, cost: int, overcharge: bool) -> int:
    if not overcharge:
        return cost
    if cost == 0:
        # Money asked for a free service (pungutan liar).
        return rng.choice([10000, 20000, 25000, 50000, 100000])
    return cost + rng.choice([25000, 50000, 100000, 150000])


def _plan(
    *,
    rng: random.Random,
    count: int,
    now: dt.datetime,
    services: list[Service],
    versions: dict[int, list[StandardVersion]],
    calendars: dict[int, tuple[Calendar, CalendarDays]],
) -> list[_Spec]:
    """Decide every delivery up front, so the random sequence never depends on what the
    database already holds (that is what makes a re-run skip exactly the same rows)."""
    earliest = now - dt.timedelta(days=WINDOW_DAYS)
    windows: list[tuple[Service, dt.datetime]] = []
    for service in services:
        rows = versions.get(service.pk)
        if not rows or rows[0].published_at is None:
            continue
        start = max(earliest, rows[0].published_at + dt.timedelta(hours=1))
        if now - start >= dt.timedelta(days=7):
            windows.append((service, start))
    if not windows:
        return []
    # Some services are much busier than others (ID cards versus land certificates).
    weights = [rng.choice([1, 2, 3, 5, 8]) for _ in windows]
    counters: dict[str, int] = {}
    specs: list[_Spec] = []
    for _ in range(count):
        service, start = rng.choices(windows, weights=weights)[0]
        calendar, index = calendars[service.pk]
        offset = calendar.utc_offset_hours
        span_days = max(1, (now - start).days)
        day = (start + dt.timedelta(days=rng.randrange(span_days))).astimezone(
            dt.timezone(dt.timedelta(hours=offset))
        )
        submitted_day = day.date()
        channel = rng.choice(service.channels or ["counter"])
        if channel != "online" and submitted_day.weekday() >= 5:
            submitted_day += dt.timedelta(days=7 - submitted_day.weekday())
        submitted_at = _local(submitted_day, rng.randint(8, 14), rng.randrange(0, 60, 5), offset)
        if submitted_at >= now - dt.timedelta(hours=1) or submitted_at < start:
            submitted_at = max(start, now - dt.timedelta(hours=rng.randint(2, 48)))
        version = _in_force(versions[service.pk], submitted_at)
        assert version is not None  # the window starts at the first publication
        agency_slug = service.agency.slug
        counters[agency_slug] = counters.get(agency_slug, 0) + 1
        reference = f"{REFERENCE_PREFIX}-{agency_slug}-{counters[agency_slug]:05d}"

        overcharge = rng.random() < 0.06
        fee = _fee(rng, version.total_cost, overcharge)
        spec = _Spec(
            service=service,
            reference=reference,
            submitted_at=submitted_at,
            file_complete_at=None,
            completed_at=None,
            outcome="",
            fee_charged=fee,
            channel=channel,
        )
        specs.append(spec)

        # Clock start: most files are complete at the counter; some a few days later.
        clock_start: dt.datetime | None = submitted_at
        if version.clock_start == ClockStart.ON_COMPLETE:
            roll = rng.random()
            if roll < 0.12:
                clock_start = submitted_at + dt.timedelta(days=rng.randint(1, 5), hours=1)
            elif roll < 0.14 and now - submitted_at < dt.timedelta(days=30):
                clock_start = None  # still waiting for a complete file
            if clock_start is not None and clock_start > now:
                clock_start = None
            spec.file_complete_at = clock_start
        if clock_start is None:
            continue

        kind = rng.random()
        value = version.processing_time_value or 0
        unit = version.processing_time_unit
        if kind < 0.015:
            spec.outcome = Outcome.WITHDRAWN
            continue
        if kind < 0.03 and unit in (TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS):
            pause_at = clock_start + dt.timedelta(days=1)
            if pause_at < now:
                spec.pause_at = pause_at
            continue
        if kind < 0.065:
            # Never finished: overdue unless submitted very recently.
            if rng.random() < 0.15 and service.agency.allows_extension:
                spec.extend_days = rng.randint(5, 15)
                spec.extend_reason = rng.choice(EXTENSION_REASONS)
            continue
        late = kind < 0.18
        very_late = late and rng.random() < 0.12

        if unit in (TimeUnit.MINUTES, TimeUnit.HOURS):
            promised = value * (60 if unit == TimeUnit.HOURS else 1)
            minutes = rng.randint(promised + 1, promised * 4) if late else rng.randint(5, promised)
            completed_at = clock_start + dt.timedelta(minutes=minutes)
        else:
            working = unit == TimeUnit.WORKING_DAYS
            if very_late:
                taken = value + rng.randint(10, 40)
            elif late:
                taken = value + rng.randint(1, max(2, value // 2 + 2))
            else:
                taken = rng.randint(value // 3, value) if rng.random() < 0.7 else value
            start_day = clock_start.astimezone(dt.timezone(dt.timedelta(hours=offset))).date()
            done_day = _add_days(index, start_day, taken, working=working)
            if done_day is None:
                continue
            completed_at = _local(done_day, rng.randint(9, 15), rng.randrange(0, 60, 5), offset)
            if completed_at <= clock_start:
                completed_at = clock_start + dt.timedelta(hours=2)
        if completed_at <= now:
            spec.completed_at = completed_at
            spec.outcome = Outcome.REFUSED if rng.random() < 0.04 else Outcome.GRANTED
    return specs


def _approvers(agency_ids: set[int]) -> dict[int, object]:
    approvers: dict[int, object] = {}
    for membership in (
        Membership.objects.filter(agency_id__in=agency_ids, role=Role.APPROVER)
        .select_related("user")
        .order_by("pk")
    ):
        approvers.setdefault(membership.agency_id, membership.user)  # type: ignore[arg-type]
    return approvers


def seed_deliveries(
    *, count: int = 3000, seed: int = DEFAULT_SEED, now: dt.datetime | None = None
) -> int:
    """Record the demo deliveries that are missing. Returns how many were created."""
    now = now or timezone.now()
    ensure_national_calendar(timezone.localdate(now))
    slugs = [spec["slug"] for spec in data.AGENCIES]
    services = list(
        Service.objects.filter(agency__slug__in=slugs)
        .select_related("agency", "unit__agency", "unit__calendar", "agency__calendar")
        .order_by("agency__slug", "slug")
    )
    if not services:
        return 0
    versions = _versions(services)
    indexes: dict[int, CalendarDays] = {}
    calendars: dict[int, tuple[Calendar, CalendarDays]] = {}
    for service in services:
        calendar = calendar_for_unit(service.unit)
        if calendar.pk not in indexes:
            indexes[calendar.pk] = CalendarDays.preloaded(calendar)
        calendars[service.pk] = (calendar, indexes[calendar.pk])

    specs = _plan(
        rng=random.Random(seed),  # noqa: S311 - demo data, reproducible by design
        count=count,
        now=now,
        services=services,
        versions=versions,
        calendars=calendars,
    )
    existing = set(
        ServiceDelivery.objects.filter(
            Q(reference__startswith=f"{REFERENCE_PREFIX}-"), agency__slug__in=slugs
        ).values_list("agency_id", "reference")
    )
    approvers = _approvers({s.agency_id for s in services})
    created = 0
    with transaction.atomic():
        for spec in specs:
            if (spec.service.agency_id, spec.reference) in existing:
                continue
            delivery, _ = delivery_record(
                service=spec.service,
                reference=spec.reference,
                submitted_at=spec.submitted_at,
                file_complete_at=spec.file_complete_at,
                completed_at=spec.completed_at,
                outcome=spec.outcome,
                refusal_reason=(
                    "Persyaratan tidak memenuhi ketentuan."
                    if spec.outcome == Outcome.REFUSED
                    else ""
                ),
                fee_charged=spec.fee_charged,
                channel=spec.channel,
            )
            created += 1
            if spec.pause_at is not None and delivery.status == DeliveryStatus.OPEN:
                delivery_pause(
                    delivery=delivery, reason=PAUSE_REASONS[created % 3], at=spec.pause_at
                )
            approver = approvers.get(spec.service.agency_id)
            if (
                spec.extend_days
                and approver is not None
                and delivery.status == DeliveryStatus.OPEN
                and delivery.due_date is not None
            ):
                base = max(delivery.due_date, timezone.localdate(now))
                delivery_extend(
                    delivery=delivery,
                    new_due_date=base + dt.timedelta(days=spec.extend_days),
                    reason=spec.extend_reason,
                    acting_user=approver,
                )
    return created
