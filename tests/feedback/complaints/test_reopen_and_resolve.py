"""The clocks after the first answer, and what the citizen writes later.

- The 60-day resolution limit becomes an unanswered-complaint breach ("resolve:<agency>"),
  exactly once however often the sweep runs, with its outbox row like every breach.
- After the citizen reopens, the unit's second answer is due within the answer limit again
  (working days on the unit's calendar, from the reopening); a missed one is a breach
  ("reanswer:<agency>"), exactly once.
- The reopen reason and the information the citizen adds reach the unit only as a handler
  moderated them; the original stays for the ombudsman.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.calendars import WORKING_DAYS, CalendarDays, calendar_for_unit, clock_due
from agencies.models import Role
from feedback.complaints import services
from notifications.models import Notification
from oversight.models import Breach, BreachKind, BreachRule
from oversight.sweep import outbox_key, sweep
from tests import factories
from tests.accounts.conftest import login_verified

pytestmark = pytest.mark.django_db

UNANSWERED = BreachKind.UNANSWERED_COMPLAINT
REASON = "Masih sama. Hubungi saya di 0812-7777-4242, Pak Joko."
ADDED = "Kejadiannya di loket 3, nomor KTP saya 3171234567890001."


def _periods(complaint: Any) -> list[str]:
    return sorted(
        Breach.objects.filter(kind=UNANSWERED, subject_id=complaint.pk).values_list(
            "period", flat=True
        )
    )


def _answered(submit: Any, editor_a: Any, *, days_ago: int) -> Any:
    """Received `days_ago`, verified, forwarded and answered at once (no other breach)."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    complaint = submit(now=at)
    services.complaint_verify(complaint=complaint, actor=editor_a, now=at)
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Teks.", now=at)
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Sudah.", now=at)
    return complaint


@pytest.fixture
def unit_editor(unit_a: Any) -> Any:
    user = factories.UserFactory(username="unit_editor_a")
    factories.MembershipFactory(user=user, agency=unit_a.agency, unit=unit_a, role=Role.EDITOR)
    return user


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


# --- 60 days to resolve ------------------------------------------------------------------------


def test_unresolved_after_60_days_is_a_breach_exactly_once_and_notified(
    submit: Any, editor_a: Any
) -> None:
    complaint = _answered(submit, editor_a, days_ago=61)
    fresh = _answered(submit, editor_a, days_ago=59)
    assert complaint.resolve_due_at < timezone.now() < fresh.resolve_due_at
    sweep()
    sweep()
    assert _periods(complaint) == [f"resolve:{complaint.agency_id}"]
    assert _periods(fresh) == []
    breach = Breach.objects.get(kind=UNANSWERED, subject_id=complaint.pk)
    assert breach.occurred_at == complaint.resolve_due_at
    assert breach.promised_value == 60 and breach.value_unit == "days"
    # Handed to the outbox once, like every new breach.
    assert (
        Notification.objects.filter(idempotency_key=outbox_key(breach.pk, breach.unit_id)).count()
        == 1
    )
    # Closing it late does not make a second one.
    services.complaint_close(complaint=complaint, actor=editor_a)
    sweep()
    assert _periods(complaint) == [f"resolve:{complaint.agency_id}"]
    assert Notification.objects.filter(subject_id=breach.pk).count() == 1


def test_closed_within_60_days_is_no_breach(submit: Any, editor_a: Any) -> None:
    complaint = _answered(submit, editor_a, days_ago=61)
    services.complaint_close(
        complaint=complaint, actor=editor_a, now=timezone.now() - dt.timedelta(days=40)
    )
    sweep()
    assert _periods(complaint) == []


def test_the_resolution_limit_is_per_agency(submit: Any, editor_a: Any, agency_a: Any) -> None:
    BreachRule.objects.create(kind=UNANSWERED, agency=agency_a, settings={"resolve_days": 90})
    complaint = _answered(submit, editor_a, days_ago=70)
    assert complaint.resolve_due_at > timezone.now()
    sweep()
    assert _periods(complaint) == []


# --- The second answer's clock -----------------------------------------------------------------


def test_reopening_starts_the_answer_clock_again_on_the_units_calendar(
    submit: Any, editor_a: Any, unit_editor: Any
) -> None:
    complaint = _answered(submit, editor_a, days_ago=3)
    reopened_at = timezone.now() - dt.timedelta(days=1)
    complaint = services.complaint_reopen(complaint=complaint, reason=REASON, now=reopened_at)
    expected = clock_due(
        CalendarDays(calendar_for_unit(complaint.unit)),
        started_at=reopened_at,
        promise_value=5,
        promise_unit=WORKING_DAYS,
    ).due_at
    assert complaint.reanswer_due_at == expected
    assert expected is not None and expected >= reopened_at + dt.timedelta(days=5)
    # The unit sees it.
    client = Client()
    client.force_login(unit_editor)
    html = client.get(reverse("complaint_staff:detail", args=[complaint.pk])).content.decode()
    shown = html.split("data-reanswer-due>", 1)[1].split("</dd>", 1)[0]
    local = timezone.localtime(expected)
    assert shown.startswith(f"{local.day} ") and local.strftime("%Y %H:%M") in shown
    # Answered in time: no breach, and the time of the second answer is kept.
    services.complaint_answer(complaint=complaint, actor=unit_editor, answer="Kami perbaiki.")
    complaint.refresh_from_db()
    assert complaint.reanswered_at is not None
    sweep()
    assert _periods(complaint) == []


def test_a_missed_second_answer_is_a_breach_exactly_once(submit: Any, editor_a: Any) -> None:
    complaint = _answered(submit, editor_a, days_ago=20)
    complaint = services.complaint_reopen(
        complaint=complaint, reason=REASON, now=timezone.now() - dt.timedelta(days=15)
    )
    assert complaint.reanswer_due_at is not None
    assert complaint.reanswer_due_at < timezone.now()
    sweep()
    sweep()
    assert _periods(complaint) == [f"reanswer:{complaint.agency_id}"]
    breach = Breach.objects.get(kind=UNANSWERED, subject_id=complaint.pk)
    assert breach.occurred_at == complaint.reanswer_due_at and breach.promised_value == 5
    assert Notification.objects.filter(
        idempotency_key=outbox_key(breach.pk, breach.unit_id)
    ).exists()
    # The late second answer makes no other breach.
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Maaf terlambat.")
    sweep()
    assert _periods(complaint) == [f"reanswer:{complaint.agency_id}"]


def test_the_first_answer_does_not_count_as_the_second(submit: Any, editor_a: Any) -> None:
    complaint = _answered(submit, editor_a, days_ago=20)
    complaint = services.complaint_reopen(
        complaint=complaint, reason=REASON, now=timezone.now() - dt.timedelta(days=15)
    )
    assert complaint.first_answered_at is not None and complaint.reanswered_at is None


# --- Moderation of what the citizen writes later ---------------------------------------------


def _page(user: Any, complaint: Any) -> str:
    client = Client()
    login_verified(client, user)
    response = client.get(reverse("complaint_staff:detail", args=[complaint.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_reopen_reason_reaches_the_unit_only_moderated(
    submit: Any, editor_a: Any, unit_editor: Any, ombudsman: Any
) -> None:
    complaint = _answered(submit, editor_a, days_ago=2)
    services.complaint_reopen(complaint=complaint, reason=REASON)
    # Before moderation: the handlers (who moderate) and the ombudsman read it; the unit not.
    assert "0812-7777-4242" in _page(editor_a, complaint)
    assert "0812-7777-4242" in _page(ombudsman, complaint)
    unit_html = _page(unit_editor, complaint)
    assert "0812-7777-4242" not in unit_html and "Pak Joko" not in unit_html
    assert "data-reopen-pending" in unit_html
    services.complaint_moderate_reopen(
        complaint=complaint, actor=editor_a, public_text="Masih sama. [kontak dihapus]"
    )
    for user in (unit_editor, editor_a):
        html = _page(user, complaint)
        assert "Masih sama. [kontak dihapus]" in html
        assert "0812-7777-4242" not in html and "Pak Joko" not in html
    # The original stays, for the ombudsman only.
    html = _page(ombudsman, complaint)
    assert "Masih sama. [kontak dihapus]" in html
    assert "data-reopen-original" in html and "0812-7777-4242" in html


def test_the_information_the_citizen_adds_reaches_the_unit_only_moderated(
    submit: Any, editor_a: Any, unit_editor: Any, ombudsman: Any
) -> None:
    complaint = submit()
    services.complaint_ask_info(complaint=complaint, actor=editor_a, question="Di loket mana?")
    services.complaint_add_info(complaint=complaint, text=ADDED)
    assert "3171234567890001" in _page(editor_a, complaint)  # the handlers read it
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(
        complaint=complaint, actor=editor_a, public_text="Antrean lama di loket 3."
    )
    unit_html = _page(unit_editor, complaint)
    assert "Antrean lama di loket 3." in unit_html
    assert "3171234567890001" not in unit_html
    assert "3171234567890001" not in _page(editor_a, complaint)
    assert "3171234567890001" in _page(ombudsman, complaint)


def test_moderating_the_reason_needs_a_reopened_complaint_and_text(
    submit: Any, editor_a: Any
) -> None:
    complaint = _answered(submit, editor_a, days_ago=1)
    client = Client()
    login_verified(client, editor_a)
    url = reverse("complaint_staff:moderate_reopen", args=[complaint.pk])
    response = client.post(url, {"reopen_text": "Teks."})
    assert response.status_code == 400
    assert "Pengaduan ini belum dibuka kembali." in response.content.decode()
    services.complaint_reopen(complaint=complaint, reason=REASON)
    response = client.post(url, {"reopen_text": "   "})
    assert response.status_code == 400
    complaint.refresh_from_db()
    assert complaint.reopen_moderated_at is None


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin_a", 302),
        ("editor_a", 302),
        ("admin_b", 404),
        ("editor_b", 404),
        ("unit_editor", 403),
        ("ombudsman", 403),
        ("anonymous", 302),
    ],
)
def test_permission_matrix_of_moderating_the_reason(
    who: str, status: int, submit: Any, editor_a: Any, request: Any
) -> None:
    complaint = _answered(submit, editor_a, days_ago=1)
    services.complaint_reopen(complaint=complaint, reason=REASON)
    client = Client()
    if who != "anonymous":
        login_verified(client, request.getfixturevalue(who))
    response = client.post(
        reverse("complaint_staff:moderate_reopen", args=[complaint.pk]),
        {"reopen_text": "Disunting."},
    )
    assert response.status_code == status
    complaint.refresh_from_db()
    moderated = status == 302 and who != "anonymous"
    assert (complaint.reopen_public_text == "Disunting.") is moderated
    if who == "anonymous":
        assert "/login" in response["Location"] or "login" in response["Location"]


# --- Routing after the first agency's limit passed --------------------------------------------


def test_routing_after_the_limit_records_the_first_agencys_breach(
    submit: Any, editor_a: Any, agency_b: Any, unit_b: Any
) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(days=10))
    agency_a_id = complaint.agency_id
    assert complaint.verify_due_at < timezone.now()
    assert _periods(complaint) == []  # the sweep has not run
    services.complaint_route(complaint=complaint, actor=editor_a, agency=agency_b)
    assert _periods(complaint) == [f"verify:{agency_a_id}"]
    breach = Breach.objects.get(kind=UNANSWERED, subject_id=complaint.pk)
    assert breach.agency_id == agency_a_id
    sweep()
    sweep()
    # Agency B's own clock has just started: nothing more.
    assert _periods(complaint) == [f"verify:{agency_a_id}"]


def test_routing_in_time_records_nothing(
    submit: Any, editor_a: Any, agency_b: Any, unit_b: Any
) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(hours=2))
    services.complaint_route(complaint=complaint, actor=editor_a, agency=agency_b)
    sweep()
    assert _periods(complaint) == []
