"""Demo deliveries: deterministic, idempotent, and a realistic mix for every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from agencies.models import CalendarDay
from delivery.models import DeliveryPause, DeliveryStatus, ServiceDelivery
from delivery.services import delivery_record
from demo.deliveries import seed_deliveries
from demo.management.commands.seed_demo import seed_registry

COUNT = 700


def _snapshot() -> list[tuple]:
    return list(
        ServiceDelivery.objects.order_by("agency_id", "reference").values_list(
            "agency_id",
            "reference",
            "tracking_code",
            "status",
            "submitted_at",
            "completed_at",
            "due_at",
            "fee_charged",
            "working_days_taken",
            "updated_at",
        )
    )


@pytest.fixture
def seeded(db):
    seed_registry()
    created = seed_deliveries(count=COUNT, seed=7)
    return created


def test_seed_is_idempotent(seeded):
    assert seeded == COUNT
    before = _snapshot()
    pauses = DeliveryPause.objects.count()
    assert seed_deliveries(count=COUNT, seed=7) == 0
    assert _snapshot() == before
    assert DeliveryPause.objects.count() == pauses
    assert all(ref.startswith("DEMO-") for _, ref, *_ in before)


def test_seed_builds_the_national_calendar_around_this_year(seeded):
    year = timezone.localdate().year
    for day in (dt.date(year - 2, 1, 1), dt.date(year + 1, 12, 31)):
        assert CalendarDay.objects.filter(calendar__slug="nasional", date=day).exists()


def test_seed_has_a_realistic_mix(seeded):
    now = timezone.now()
    deliveries = ServiceDelivery.objects.all()
    completed = deliveries.filter(status=DeliveryStatus.COMPLETED)
    on_time = completed.filter(completed_at__lte=F("due_at")).count()
    late = completed.filter(completed_at__gt=F("due_at")).count()
    assert on_time > 0.7 * completed.count()
    assert late >= 0.05 * completed.count()
    assert completed.filter(working_days_taken__gte=F("promise_value") + 10).exists()  # very late
    overcharged = deliveries.filter(fee_charged__gt=F("promised_cost"))
    assert overcharged.count() >= 0.02 * COUNT
    assert overcharged.filter(promised_cost=0).exists()  # money asked for a free service
    assert overcharged.filter(promised_cost__gt=0).exists()
    assert deliveries.filter(status=DeliveryStatus.OPEN, due_at__lt=now).exists()
    assert deliveries.filter(status=DeliveryStatus.OPEN, due_at__gte=now).exists()
    assert deliveries.filter(status=DeliveryStatus.PAUSED).exists()
    assert deliveries.filter(status=DeliveryStatus.WITHDRAWN).exists()
    assert deliveries.filter(extended_due_date__isnull=False).exclude(extension_reason="").exists()
    # Spread over the past year, never in the future.
    oldest = deliveries.order_by("submitted_at").first()
    assert oldest is not None and oldest.submitted_at < now - dt.timedelta(days=300)
    assert not deliveries.filter(submitted_at__gt=now).exists()
    # Every agency of the demo has deliveries.
    assert deliveries.values("agency").distinct().count() == 3


def test_seeded_due_dates_are_those_of_delivery_record(seeded):
    """Re-record a sample through delivery_record: the stored clock facts do not move."""
    sample = list(
        ServiceDelivery.objects.filter(pauses__isnull=True, extended_due_date__isnull=True)
        .select_related("service")
        .order_by("pk")[::37]
    )
    assert len(sample) > 10
    for delivery in sample:
        again, created = delivery_record(
            service=delivery.service,
            reference=delivery.reference,
            submitted_at=delivery.submitted_at,
            file_complete_at=delivery.file_complete_at,
            completed_at=delivery.completed_at,
            outcome=delivery.outcome,
            refusal_reason=delivery.refusal_reason,
            fee_charged=delivery.fee_charged,
            channel=delivery.channel,
        )
        assert not created
        assert (again.due_date, again.due_at, again.working_days_taken, again.status) == (
            delivery.due_date,
            delivery.due_at,
            delivery.working_days_taken,
            delivery.status,
        )
