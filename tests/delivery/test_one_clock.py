"""One clock: the one-row path (a query per lookup) and the batch path (the calendar
preloaded once) compute the same due dates, and the set-based recompute after a calendar
change lands where the clock would."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.calendars import (
    DAY_UNITS,
    PROMISE_UNITS,
    WORKING_DAYS,
    CalendarDays,
    calendar_day_set,
    calendar_rebuild,
    clock_due,
    closed_days,
    reference_due_date,
)
from agencies.models import Calendar, CalendarException
from core.errors import ApplicationError
from delivery.models import ACTIVE_STATUSES, ServiceDelivery
from delivery.services import delivery_pause, delivery_record, delivery_resume
from services.models import TimeUnit
from tests.delivery.conftest import JAKARTA, wib
from tests.registry import make_published, make_service

D = dt.date
SPAN = (2025, 2027)


def test_the_clock_knows_every_unit_of_a_promise():
    assert set(PROMISE_UNITS) == set(TimeUnit.values)
    assert set(DAY_UNITS) == {TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS}


clocks = st.fixed_dictionaries(
    {
        "started_at": st.one_of(
            st.none(),
            st.datetimes(
                min_value=dt.datetime(2024, 12, 20), max_value=dt.datetime(2027, 12, 31)
            ).map(lambda moment: moment.replace(second=0, microsecond=0, tzinfo=JAKARTA)),
        ),
        "promise_value": st.integers(min_value=0, max_value=40),
        "promise_unit": st.sampled_from(PROMISE_UNITS),
        "paused_working_days": st.integers(min_value=0, max_value=6),
        "paused_minutes": st.integers(min_value=0, max_value=900),
        "extended_due_date": st.one_of(
            st.none(), st.none(), st.dates(min_value=D(2024, 12, 1), max_value=D(2028, 1, 31))
        ),
        "service_hours": st.sampled_from(
            [(dt.time(8, 0), dt.time(16, 0)), (dt.time(7, 30), dt.time(12, 0))]
        ),
    }
)


def _outcome(days: CalendarDays, clock: dict[str, Any]) -> Any:
    try:
        return clock_due(days, **clock)
    except ApplicationError as error:
        return ("refused", error.code, error.message)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offset=st.sampled_from([7, 8, 9]),
    closures=st.lists(st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)), max_size=8),
    openings=st.lists(st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)), max_size=3),
    cases=st.lists(clocks, min_size=1, max_size=12),
)
def test_one_row_and_batch_agree_on_random_clocks(national, offset, closures, openings, cases):
    calendar = Calendar.objects.create(
        name="Acak", slug=f"acak-{uuid.uuid4().hex[:12]}", parent=national, utc_offset_hours=offset
    )
    for day in closures:
        CalendarException.objects.update_or_create(
            calendar=calendar, date=day, defaults={"kind": "closure", "name": "Tutup"}
        )
    for day in openings:
        CalendarException.objects.update_or_create(
            calendar=calendar, date=day, defaults={"kind": "working_day", "name": "Masuk"}
        )
    calendar_rebuild(calendar, span=SPAN, notify=False)
    one_row, batch = CalendarDays(calendar), CalendarDays.preloaded(calendar)
    closed = closed_days(calendar, *SPAN)
    for clock in cases:
        expected = _outcome(one_row, clock)
        assert _outcome(batch, clock) == expected, clock
        plain = (
            clock["started_at"] is not None
            and clock["promise_unit"] == WORKING_DAYS
            and clock["extended_due_date"] is None
            and clock["paused_working_days"] == 0
            and not isinstance(expected, tuple)
        )
        if plain:  # against the slow twin as well
            start = expected.start_date
            assert expected.due_date == reference_due_date(closed, start, clock["promise_value"])
    calendar.delete()


# --- The recompute after a calendar change ----------------------------------------------------


@pytest.fixture
def promises(agency_a, unit_a, national):
    """A working-day, a calendar-day and an hour promise."""
    services = []
    for name, value, unit, start in (
        ("Hari Kerja", 5, "working_days", "on_complete"),
        ("Hari Kalender", 10, "calendar_days", "on_receipt"),
        ("Jam Layanan", 6, "hours", "on_receipt"),
    ):
        service = make_service(agency_a, unit_a, name=name)
        make_published(
            service,
            published_at=wib(2025, 6, 1),
            processing_time_value=value,
            processing_time_unit=unit,
            clock_start=start,
        )
        services.append(service)
    return services


def _due_by_the_clock(delivery: ServiceDelivery, days: CalendarDays) -> tuple[Any, Any]:
    clock = clock_due(
        days,
        started_at=delivery.clock_started_at,
        promise_value=delivery.promise_value,
        promise_unit=delivery.promise_unit,
        paused_working_days=delivery.paused_working_days,
        paused_minutes=delivery.paused_minutes,
        service_hours=(delivery.unit.opens_at, delivery.unit.closes_at),
    )
    return clock.due_date, clock.due_at


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recompute_lands_where_the_clock_would(promises, national, superuser, seed):
    rng = random.Random(seed)
    for n in range(60):
        submitted = wib(2026, 1, 5, 8) + dt.timedelta(
            days=rng.randrange(60), minutes=rng.randrange(10 * 60)
        )
        delivery, _ = delivery_record(
            service=rng.choice(promises),
            reference=f"R-{n}",
            submitted_at=submitted,
            file_complete_at=submitted + dt.timedelta(hours=rng.randrange(48)),
        )
        if rng.random() < 0.3:
            paused = submitted + dt.timedelta(days=rng.randrange(1, 4))
            delivery_pause(delivery=delivery, reason="Berkas kurang", at=paused)
            if rng.random() < 0.7:
                resumed = paused + dt.timedelta(days=rng.randrange(1, 5), hours=rng.randrange(8))
                delivery_resume(delivery=delivery, at=resumed)
    for _ in range(3):
        holiday = D(2026, 1, 20) + dt.timedelta(days=rng.randrange(60))
        calendar_day_set(
            calendar=national, date=holiday, kind="holiday", name="Libur", acting_user=superuser
        )
        days = CalendarDays.preloaded(national)
        active = ServiceDelivery.objects.filter(status__in=ACTIVE_STATUSES).select_related("unit")
        assert len(active) > 20
        for delivery in active:
            assert (delivery.due_date, delivery.due_at) == _due_by_the_clock(delivery, days), (
                delivery.reference,
                holiday,
            )
