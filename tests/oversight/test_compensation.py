"""The charter's compensation: computed per working day of delay (capped), and its payment
recorded by the unit with an audit event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import translation

from agencies.models import CalendarDay
from charter.services import charter_draft_create, charter_publish
from core.errors import ApplicationError, PermissionDeniedError
from oversight.answers import breach_record_compensation
from oversight.compensation import Compensation, breach_compensation
from oversight.models import Breach, BreachEvent, BreachStatus
from oversight.sweep import sweep
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import SWEPT_AT, late_breach

service = notifications_conftest.service

# The late_breach request: due Monday 12 January 2026, completed Tuesday 20 January.
# Working days after the due date: 13, 14, 15, (16 is Isra Mikraj, a national holiday),
# 19, 20 -> 5 days late.
DAYS_LATE = 5
PAID_ON = dt.date(2026, 1, 25)
NOW = wib(2026, 2, 3, 10, 0)


def publish_charter(unit, services, **fields):
    values = {
        "signatory_name": "Dra. Siti Rahmawati",
        "signatory_title": "Kepala Unit Pelayanan",
        "signed_on": dt.date(2025, 1, 2),
        "compensation_per_day": 20_000,
        "compensation_cap": 500_000,
    }
    values.update(fields)
    charter = charter_draft_create(unit=unit, services=services, **values)
    return charter_publish(charter=charter)


@pytest.fixture
def breach(service):
    return late_breach(service)


@pytest.fixture
def charter(service, unit_a):
    return publish_charter(unit_a, [service])


def en(name: str, **kwargs) -> str:
    with translation.override("en"):
        return reverse(name, kwargs=kwargs)


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- Computed ---------------------------------------------------------------------------


def test_owed_per_working_day_of_delay_skipping_the_holiday(breach, charter):
    holiday = CalendarDay.objects.get(calendar=breach.delivery.calendar, date=dt.date(2026, 1, 16))
    assert not holiday.is_working_day  # the fixture really spans a holiday
    assert breach.delivery.due_date == dt.date(2026, 1, 12)

    assert breach_compensation(breach) == Compensation(
        per_day=20_000, cap=500_000, days_late=DAYS_LATE, owed=DAYS_LATE * 20_000
    )


def test_owed_is_capped(breach, service, unit_a):
    publish_charter(unit_a, [service], compensation_per_day=50_000, compensation_cap=120_000)
    compensation = breach_compensation(breach)
    assert compensation is not None
    assert (compensation.days_late, compensation.owed) == (DAYS_LATE, 120_000)


def test_no_cap_means_every_day_counts(breach, service, unit_a):
    publish_charter(unit_a, [service], compensation_per_day=50_000, compensation_cap=None)
    compensation = breach_compensation(breach)
    assert compensation is not None and compensation.owed == DAYS_LATE * 50_000


def test_no_published_charter_or_no_promise_means_no_compensation(breach, service, unit_a):
    assert breach_compensation(breach) is None
    draft = charter_draft_create(
        unit=unit_a,
        services=[service],
        signatory_name="A",
        signatory_title="B",
        signed_on=dt.date(2025, 1, 2),
        compensation_per_day=20_000,
    )
    assert breach_compensation(breach) is None  # a draft promises nothing yet
    charter_publish(charter=draft)
    assert breach_compensation(breach) is not None


def test_a_charter_without_a_daily_amount_owes_nothing(breach, service, unit_a):
    publish_charter(unit_a, [service], compensation_per_day=None, compensation_cap=None)
    assert breach_compensation(breach) is None


def test_an_overdue_open_request_counts_up_to_today(service, charter):
    from delivery.services import delivery_record

    delivery_record(
        service=service,
        reference="open",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    sweep(now=SWEPT_AT, kinds=["overdue_open"])
    breach = Breach.objects.get(kind="overdue_open", delivery__reference="open")
    # 13, 14, 15 January: three working days after the due date.
    compensation = breach_compensation(breach, today=dt.date(2026, 1, 15))
    assert compensation is not None and (compensation.days_late, compensation.owed) == (3, 60_000)
    # Over the holiday and the weekend: still three, then four on Monday.
    assert breach_compensation(breach, today=dt.date(2026, 1, 18)).days_late == 3  # type: ignore[union-attr]
    assert breach_compensation(breach, today=dt.date(2026, 1, 19)).days_late == 4  # type: ignore[union-attr]


def test_other_kinds_owe_no_compensation(service, charter):
    from delivery.services import delivery_record

    delivery_record(
        service=service,
        reference="fee",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 6),
        fee_charged=50_000,
    )
    sweep(now=SWEPT_AT, kinds=["overcharge"])
    breach = Breach.objects.get(kind="overcharge")
    assert breach_compensation(breach) is None


# --- Recorded ---------------------------------------------------------------------------


def test_the_unit_records_the_payment_with_an_event(breach, charter, editor_a):
    recorded = breach_record_compensation(
        breach=breach, acting_user=editor_a, amount=100_000, paid_on=PAID_ON, now=NOW
    )
    assert (recorded.compensation_paid_amount, recorded.compensation_paid_at) == (
        100_000,
        PAID_ON,
    )
    breach.refresh_from_db()
    assert (breach.compensation_paid_amount, breach.compensation_paid_at) == (100_000, PAID_ON)
    assert breach.status == BreachStatus.ACKNOWLEDGED  # recording the payment answers it
    events = list(BreachEvent.objects.filter(breach=breach))
    assert [e.kind for e in events] == ["acknowledged", "compensated"]
    assert events[1].actor == editor_a and events[1].via == "staff"
    assert "100.000" in events[1].text and "2026-01-25" in events[1].text
    # The history keeps the fields too.
    assert breach.history.first().compensation_paid_amount == 100_000


def test_a_confirmed_breach_can_still_be_compensated(breach, charter, editor_a):
    Breach.objects.filter(pk=breach.pk).update(status=BreachStatus.CONFIRMED)
    breach.refresh_from_db()
    breach_record_compensation(
        breach=breach, acting_user=editor_a, amount=100_000, paid_on=PAID_ON, now=NOW
    )
    assert list(BreachEvent.objects.filter(breach=breach).values_list("kind", flat=True)) == [
        "compensated"
    ]


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        (-1, PAID_ON, "amount"),
        (0, PAID_ON, "amount"),
        (10**19, PAID_ON, "amount"),  # beyond the column: a field error, not a 500
        (None, PAID_ON, "amount"),
        (100_000, dt.date(2026, 2, 4), "paid_on"),  # tomorrow
        (100_000, None, "paid_on"),
    ],
)
def test_bad_input_is_refused(breach, charter, editor_a, amount, paid_on, field):
    with pytest.raises(ApplicationError) as error:
        breach_record_compensation(
            breach=breach, acting_user=editor_a, amount=amount, paid_on=paid_on, now=NOW
        )
    assert error.value.field == field
    breach.refresh_from_db()
    assert breach.compensation_paid_at is None
    assert not BreachEvent.objects.filter(breach=breach).exists()


def test_no_compensation_or_a_dismissed_breach_is_refused(breach, service, unit_a, editor_a):
    with pytest.raises(ApplicationError) as error:
        breach_record_compensation(
            breach=breach, acting_user=editor_a, amount=100_000, paid_on=PAID_ON, now=NOW
        )
    assert error.value.code == "no_compensation"
    publish_charter(unit_a, [service])
    Breach.objects.filter(pk=breach.pk).update(status=BreachStatus.DISMISSED)
    breach.refresh_from_db()
    with pytest.raises(ApplicationError) as error:
        breach_record_compensation(
            breach=breach, acting_user=editor_a, amount=100_000, paid_on=PAID_ON, now=NOW
        )
    assert error.value.code == "closed"
    assert not BreachEvent.objects.filter(breach=breach).exists()


def test_other_agency_and_the_ombudsman_cannot_record(breach, charter, editor_b, ombudsman):
    for user in (editor_b, ombudsman):
        with pytest.raises(PermissionDeniedError):
            breach_record_compensation(
                breach=breach, acting_user=user, amount=100_000, paid_on=PAID_ON, now=NOW
            )
    assert not BreachEvent.objects.filter(breach=breach).exists()


# --- The staff page ------------------------------------------------------------------------


def test_the_page_shows_what_is_owed_and_records_the_payment(
    client, breach, charter, editor_a, english
):
    client.force_login(editor_a)
    detail = en("breach_answers:detail", pk=breach.pk)
    page = client.get(detail)
    assert page.status_code == 200
    assert b'data-compensation-owed="100000"' in page.content
    assert "Rp 100,000 (5 working days × Rp 20,000, capped at Rp 500,000)" in page.content.decode()
    url = en("breach_answers:compensation", pk=breach.pk)
    assert url.encode() in page.content

    done = client.post(url, {"amount": "100000", "paid_on": "2026-01-25"})
    assert done.status_code == 302
    breach.refresh_from_db()
    assert (breach.compensation_paid_amount, breach.compensation_paid_at) == (100_000, PAID_ON)
    page = client.get(detail)
    assert b'data-compensation-paid="100000"' in page.content
    assert "Rp 100,000 on 25 Jan 2026" in page.content.decode()
    assert b'data-event="compensated"' in page.content


def test_the_form_shows_field_errors(client, breach, charter, editor_a, english):
    client.force_login(editor_a)
    url = en("breach_answers:compensation", pk=breach.pk)
    negative = client.post(url, {"amount": "-5", "paid_on": "2026-01-25"})
    assert negative.status_code == 400
    assert b'id="id_amount_error"' in negative.content
    assert b"more than zero" in negative.content
    future = client.post(url, {"amount": "100000", "paid_on": "2099-01-01"})
    assert future.status_code == 400
    assert b'id="id_paid_on_error"' in future.content
    assert b"cannot be in the future" in future.content
    garbage = client.post(url, {"amount": "lots", "paid_on": "yesterday"})
    assert garbage.status_code == 400
    assert b'id="id_amount_error"' in garbage.content
    assert b'id="id_paid_on_error"' in garbage.content
    breach.refresh_from_db()
    assert breach.compensation_paid_at is None


def test_the_form_errors_follow_the_users_language(client, breach, charter, editor_a):
    client.force_login(editor_a)
    for language in ("id", "en"):
        with translation.override(language):
            url = reverse("breach_answers:compensation", kwargs={"pk": breach.pk})
            expected = translation.gettext("The date of payment cannot be in the future.")
            required = translation.gettext("This field is required.")
        response = client.post(url, {"amount": "", "paid_on": "2099-01-01"})
        assert response.status_code == 400
        assert required in response.content.decode()  # Django's own, translated
        response = client.post(url, {"amount": "1000", "paid_on": "2099-01-01"})
        assert expected in response.content.decode()
    with translation.override("id"):
        assert translation.gettext("This field is required.") != "This field is required."


def test_without_compensation_there_is_no_form_and_a_post_is_refused(client, breach, editor_a):
    client.force_login(editor_a)
    page = client.get(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
    url = reverse("breach_answers:compensation", kwargs={"pk": breach.pk})
    assert b"data-compensation-owed" not in page.content and url.encode() not in page.content
    refused = client.post(url, {"amount": "100000", "paid_on": "2026-01-25"})
    assert refused.status_code == 400
    assert not BreachEvent.objects.filter(breach=breach).exists()


def test_who_may_record_the_payment(client, breach, charter, editor_a, editor_b, ombudsman):
    url = reverse("breach_answers:compensation", kwargs={"pk": breach.pk})
    data = {"amount": "100000", "paid_on": "2026-01-25"}
    anonymous = client.post(url, data)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client.get(url).status_code in (302, 405)

    client.force_login(editor_b)  # another agency: the breach does not exist for them
    assert client.post(url, data).status_code == 404
    client.logout()

    login_verified(client, ombudsman)  # sees the breach, but may not answer for the unit
    assert client.post(url, data).status_code == 403
    page = client.get(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
    assert page.status_code == 200 and url.encode() not in page.content
    client.logout()

    breach.refresh_from_db()
    assert breach.compensation_paid_at is None
    client.force_login(editor_a)
    assert client.get(url).status_code == 405
    assert client.post(url, data).status_code == 302
    breach.refresh_from_db()
    assert breach.compensation_paid_amount == 100_000
