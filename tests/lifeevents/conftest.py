"""Life events over a hand-made work calendar: one holiday (Wednesday 4 March 2026)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agencies.models import Calendar, CalendarException, Role
from lifeevents.models import LifeEvent
from lifeevents.services import life_event_create, life_event_publish, life_event_step_add
from tests import factories
from tests.registry import make_draft, make_published, make_service

MONDAY = dt.date(2026, 3, 2)
HOLIDAY = dt.date(2026, 3, 4)


@pytest.fixture
def curator(db: Any) -> Any:
    user = factories.UserFactory(username="kurator")
    factories.MembershipFactory(user=user, agency=None, role=Role.CURATOR)
    return user


@pytest.fixture
def holiday_calendar(db: Any) -> Calendar:
    from agencies.calendars import calendar_rebuild

    calendar = Calendar.objects.create(
        name="Kalender Uji", slug="uji", use_national_holidays=False, weekend_days=[5, 6]
    )
    CalendarException.objects.create(
        calendar=calendar, date=HOLIDAY, kind=CalendarException.Kind.HOLIDAY, name="Libur uji"
    )
    calendar_rebuild(calendar, span=(2026, 2026))
    return calendar


def published(unit: Any, name: str, days: int, costs: list[int] | None = None, **kw: Any) -> Any:
    from django.utils import timezone

    service = make_service(unit.agency, unit, name)
    items = [{"name": f"Biaya {n}", "amount": a} for n, a in enumerate(costs or [], 1)]
    kw.setdefault("published_at", timezone.now() - dt.timedelta(days=90))
    make_published(
        service,
        {"cost_items": items},
        processing_time_value=days,
        is_free=not costs,
        **kw,
    )
    return service


def unpublished(unit: Any, name: str) -> Any:
    service = make_service(unit.agency, unit, name)
    make_draft(service)
    return service


@pytest.fixture
def birth(unit_a: Any, unit_b: Any, holiday_calendar: Calendar) -> LifeEvent:
    """A: 2 wd (Rp 4.000 + Rp 6.000); B: 3 wd, free, alongside A; C: 1 wd (Rp 25.000), needs A
    and B; D: 1 wd, free, needs A; E: no published standard, needs C."""
    for unit in (unit_a, unit_b):
        unit.calendar = holiday_calendar
        unit.save()
    a = published(unit_a, "Akta Kelahiran", 2, [4000, 6000])
    b = published(unit_b, "Surat Keterangan Lahir", 3)
    c = published(unit_a, "Perubahan KK", 1, [25000])
    d = published(unit_a, "Kartu Identitas Anak", 1)
    e = unpublished(unit_b, "Pendaftaran Asuransi")
    event = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    sa = life_event_step_add(event=event, service=a)
    sb = life_event_step_add(event=event, service=b)
    sc = life_event_step_add(event=event, service=c, depends_on=[sa, sb])
    life_event_step_add(event=event, service=d, depends_on=[sa])
    life_event_step_add(event=event, service=e, depends_on=[sc])
    life_event_publish(event=event)
    return event
