"""The demo's flagship, KTP-el at Disdukcapil Kota Bandung: enough completed requests in
the last 12 months that its on-time rate and monthly chart show; idempotent and
clock-stable."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from delivery.models import ServiceDelivery
from delivery.selectors import performance_by_month, performance_figures
from demo.flagship import FLAGSHIP_AGENCY, FLAGSHIP_SERVICE, MONTHS, per_month, seed_flagship
from demo.management.commands.seed_demo import seed_registry
from services.models import Service


def test_the_flagship_shows_its_rate_and_chart_and_reseeding_adds_nothing(db):
    seed_registry()
    now = timezone.now()
    created = seed_flagship(now=now)
    assert created >= (MONTHS - 1) * per_month()
    # A second run minutes later creates nothing.
    assert seed_flagship(now=now + dt.timedelta(minutes=7)) == 0
    assert seed_flagship(now=now) == 0

    service = Service.objects.get(agency__slug=FLAGSHIP_AGENCY, slug=FLAGSHIP_SERVICE)
    assert ServiceDelivery.objects.filter(service=service).count() == created
    today = timezone.localdate(now)
    figures = performance_figures(
        service=service, since=today - dt.timedelta(days=365), until=today, use_cache=False
    )
    assert figures.on_time_rate is not None
    assert 0.7 < figures.on_time_rate < 0.97  # mostly on time, some late
    months = performance_by_month(service=service, until=today)
    shown = [m for m in months if m.on_time_rate is not None]
    assert len(shown) >= MONTHS - 1  # the current month may be too young
