"""Due dates exact to the day: weekends, holidays, cuti bersama, regions, closures, clocks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.calendars import (
    calendar_day_set,
    calendar_rebuild,
    closed_days,
    due_in_days,
    reference_due_date,
)
from agencies.models import Calendar
from core.errors import ApplicationError
from delivery.models import DeliveryStatus
from delivery.services import (
    delivery_complete,
    delivery_extend,
    delivery_file_complete,
    delivery_pause,
    delivery_record,
    delivery_resume,
)
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

D = dt.date


def _calendar(name: str, parent: Calendar, **fields) -> Calendar:
    calendar = Calendar.objects.create(
        name=name, slug=name.lower().replace(" ", "-"), parent=parent, **fields
    )
    calendar_rebuild(calendar, span=(2025, 2027))
    return calendar


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 1, 9), 1, D(2026, 1, 12)),  # Friday -> Monday
        (D(2026, 1, 10), 1, D(2026, 1, 12)),  # submitted on a Saturday: Monday is day 1
        (D(2026, 2, 2), 5, D(2026, 2, 9)),  # a full week
        (D(2026, 1, 12), 5, D(2026, 1, 20)),  # a week with Isra Mikraj in it
        (D(2026, 1, 15), 1, D(2026, 1, 19)),  # Isra Mikraj, Friday 16 January
        (D(2025, 12, 31), 1, D(2026, 1, 2)),  # across the year, past Tahun Baru
        (D(2026, 3, 17), 3, D(2026, 3, 27)),  # Idul Fitri 2026 with its collective leave
        (D(2026, 12, 23), 2, D(2026, 12, 29)),  # cuti bersama 24 Dec, Natal 25 Dec
        (D(2026, 1, 9), 0, D(2026, 1, 9)),
    ],
)
def test_working_days_on_the_national_calendar(national, start, days, expected):
    assert due_in_days(national, start, days).date == expected


def test_idul_fitri_on_a_calendar_open_during_collective_leave(national):
    open_office = _calendar("Buka cuti bersama", national, closed_on_cuti_bersama=False)
    # Closed only on Nyepi (19), Idul Fitri (21-22) and the weekend: 18, 20, 23 count.
    assert due_in_days(open_office, D(2026, 3, 17), 3).date == D(2026, 3, 23)


def test_calendar_days_count_every_day(national):
    assert due_in_days(national, D(2026, 3, 17), 7, working=False).date == D(2026, 3, 24)


def test_the_due_moment_is_the_end_of_the_local_day(national):
    due = due_in_days(national, D(2026, 1, 9), 1)
    assert due.at == dt.datetime(2026, 1, 12, 17, 0, tzinfo=dt.UTC)  # midnight WIB
    wit = _calendar("Papua", national, utc_offset_hours=9)
    assert due_in_days(wit, D(2026, 1, 9), 1).at == dt.datetime(2026, 1, 12, 15, 0, tzinfo=dt.UTC)


def test_regional_holidays_and_unit_closures_inherit(national, superuser):
    region = _calendar("Kota Bandung", national)
    calendar_day_set(
        calendar=region,
        date=D(2026, 1, 12),
        kind="holiday",
        name="Hari Jadi",
        acting_user=superuser,
    )
    unit_calendar = _calendar("Kantor Dinas", region)
    calendar_day_set(
        calendar=unit_calendar,
        date=D(2026, 1, 13),
        kind="closure",
        name="Pindah kantor",
        acting_user=superuser,
    )
    assert due_in_days(national, D(2026, 1, 9), 1).date == D(2026, 1, 12)
    assert due_in_days(region, D(2026, 1, 9), 1).date == D(2026, 1, 13)
    assert due_in_days(unit_calendar, D(2026, 1, 9), 1).date == D(2026, 1, 14)
    # A later regional change reaches the unit calendar too.
    calendar_day_set(
        calendar=region, date=D(2026, 1, 14), kind="holiday", name="Lagi", acting_user=superuser
    )
    assert due_in_days(unit_calendar, D(2026, 1, 9), 1).date == D(2026, 1, 15)


def test_a_unit_serving_on_saturday(national):
    saturday_office = _calendar("Buka Sabtu", national, weekend_days=[6])
    assert due_in_days(saturday_office, D(2026, 1, 9), 1).date == D(2026, 1, 10)


def test_an_extra_working_day_set_by_hand_opens_a_holiday(national, superuser):
    calendar_day_set(
        calendar=national,
        date=D(2026, 1, 16),
        kind="working_day",
        name="Masuk",
        acting_user=superuser,
    )
    assert due_in_days(national, D(2026, 1, 15), 1).date == D(2026, 1, 16)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset=st.integers(min_value=0, max_value=700), days=st.integers(min_value=1, max_value=60))
def test_sql_lookup_agrees_with_a_plain_python_walk(national, offset, days):
    start = D(2025, 1, 1) + dt.timedelta(days=offset)
    closed = closed_days(national, 2025, 2027)
    assert due_in_days(national, start, days).date == reference_due_date(closed, start, days)


@pytest.fixture
def service(agency_a, unit_a, national):
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)
    return service


def test_clock_starts_on_completeness(service):
    delivery, created = delivery_record(
        service=service, reference="A-1", submitted_at=wib(2026, 1, 5)
    )
    assert created and delivery.status == DeliveryStatus.WAITING and delivery.due_date is None
    delivery = delivery_file_complete(delivery=delivery, at=wib(2026, 1, 7))
    assert delivery.status == DeliveryStatus.OPEN
    assert delivery.due_date == D(2026, 1, 14)  # 5 working days after Wednesday 7 January


def test_recording_is_idempotent_on_the_agency_reference(service):
    first, created = delivery_record(
        service=service,
        reference="A-2",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    again, created_again = delivery_record(
        service=service,
        reference="A-2",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        fee_charged=1000,
    )
    assert created and not created_again and first.pk == again.pk
    assert again.fee_charged == 1000 and again.tracking_code == first.tracking_code


def test_a_pause_extends_the_due_date(service):
    delivery, _ = delivery_record(
        service=service,
        reference="A-3",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    assert delivery.due_date == D(2026, 1, 12)
    delivery_pause(delivery=delivery, reason="KK belum dibawa", at=wib(2026, 1, 6))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PAUSED
    delivery = delivery_resume(delivery=delivery, at=wib(2026, 1, 8))
    assert delivery.paused_working_days == 2
    assert delivery.due_date == D(2026, 1, 14)


def test_one_extension_with_reason_and_approver(service, approver_a, editor_a):
    delivery, _ = delivery_record(
        service=service,
        reference="A-4",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    from core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        delivery_extend(
            delivery=delivery,
            new_due_date=D(2026, 1, 20),
            reason="Survei lapangan",
            acting_user=editor_a,
        )
    delivery = delivery_extend(
        delivery=delivery,
        new_due_date=D(2026, 1, 20),
        reason="Survei lapangan",
        acting_user=approver_a,
    )
    assert delivery.due_date == D(2026, 1, 20)
    assert delivery.due_at == dt.datetime(2026, 1, 20, 17, 0, tzinfo=dt.UTC)
    with pytest.raises(ApplicationError) as error:
        delivery_extend(
            delivery=delivery, new_due_date=D(2026, 1, 27), reason="Lagi", acting_user=approver_a
        )
    assert error.value.code == "already_extended"


def test_hour_promises_count_only_service_hours(agency_a, unit_a, national):
    service = make_service(agency_a, unit_a, name="Legalisir")
    make_published(
        service,
        published_at=wib(2025, 6, 1),
        processing_time_value=4,
        processing_time_unit="hours",
        clock_start="on_receipt",
    )
    delivery, _ = delivery_record(
        service=service, reference="H-1", submitted_at=wib(2026, 1, 9, 14, 0)
    )
    # Two hours on Friday (14.00-16.00), two on Monday from 08.00.
    assert delivery.due_at == wib(2026, 1, 12, 10, 0)
    early, _ = delivery_record(
        service=service, reference="H-2", submitted_at=wib(2026, 1, 12, 6, 30)
    )
    assert early.due_at == wib(2026, 1, 12, 12, 0)


def test_a_holiday_added_after_submission_moves_open_due_dates(service, superuser, national):
    open_one, _ = delivery_record(
        service=service,
        reference="A-5",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    done, _ = delivery_record(
        service=service,
        reference="A-6",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 8),
    )
    assert open_one.due_date == done.due_date == D(2026, 1, 12)
    calendar_day_set(
        calendar=national,
        date=D(2026, 1, 9),
        kind="holiday",
        name="Libur tambahan",
        acting_user=superuser,
    )
    open_one.refresh_from_db()
    done.refresh_from_db()
    assert open_one.due_date == D(2026, 1, 13)
    assert open_one.due_at == dt.datetime(2026, 1, 13, 17, 0, tzinfo=dt.UTC)
    assert done.due_date == D(2026, 1, 12)  # a closed request keeps the promise it was judged by


def test_the_version_in_force_at_submission_is_the_promise(service, approver_a, editor_a):
    from services.services import standard_draft_update, standard_new_version, standard_publish

    old = service.versions.get()
    new = standard_new_version(version=old, acting_user=editor_a)
    new = standard_draft_update(
        version=new, acting_user=editor_a, data={"processing_time_value": 2}
    )
    standard_publish(version=new, acting_user=approver_a, published_at=wib(2026, 1, 7))
    before, _ = delivery_record(
        service=service,
        reference="V-1",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    after, _ = delivery_record(
        service=service,
        reference="V-2",
        submitted_at=wib(2026, 1, 8),
        file_complete_at=wib(2026, 1, 8),
    )
    assert before.version_id == old.pk and before.promise_value == 5
    assert after.version_id == new.pk and after.promise_value == 2


def test_bad_times_are_refused(service):
    with pytest.raises(ApplicationError) as error:
        delivery_record(
            service=service,
            reference="B-1",
            submitted_at=wib(2026, 1, 5),
            completed_at=wib(2026, 1, 4),
        )
    assert error.value.field == "completed_at"
    with pytest.raises(ApplicationError):
        delivery_record(
            service=service, reference="B-2", submitted_at=wib(2026, 1, 5), fee_charged=-5
        )


def test_completion_records_working_days_taken(service):
    delivery, _ = delivery_record(
        service=service,
        reference="C-1",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    delivery = delivery_complete(delivery=delivery, completed_at=wib(2026, 1, 12, 15, 0))
    assert delivery.working_days_taken == 5
    assert delivery.is_on_time  # completed on the due date is on time


def test_adding_a_day_in_the_admin_moves_open_due_dates(service, client, superuser, national):
    from tests.accounts.conftest import login_verified

    login_verified(client, superuser)  # the admin asks superusers for their TOTP code
    admin_client = client
    delivery, _ = delivery_record(
        service=service,
        reference="ADM-1",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    assert delivery.due_date == D(2026, 1, 12)
    response = admin_client.post(
        "/admin/agencies/calendarexception/add/",
        {
            "calendar": national.pk,
            "date": "2026-01-08",
            "kind": "closure",
            "name": "Gangguan sistem",
        },
    )
    assert response.status_code == 302, response.content[:500]
    delivery.refresh_from_db()
    assert delivery.due_date == D(2026, 1, 13)
    exception = national.exceptions.get()
    assert exception.history.count() == 1  # audited
