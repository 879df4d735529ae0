"""A breach reaches the unit officer's inbox and is answered; another climbs the ladder."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.models import Notification
from notifications.outbox import drain
from oversight.escalation import escalate
from oversight.models import BreachEscalation, BreachEvent, BreachStatus
from tests.delivery.conftest import wib
from tests.notifications.conftest import late_breach
from tests.registry import make_published, make_service

pytestmark = pytest.mark.e2e


def _login(page, username: str) -> None:
    page.goto("/en/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()


def _level(breach) -> int:
    row = BreachEscalation.objects.filter(breach=breach).first()
    return row.level if row else 0


def test_an_answered_breach_stays_put_and_a_silent_one_reaches_the_ombudsman(
    page,
    browser,
    live_server,
    editor_a,
    admin_a,
    ombudsman,
    agency_a,
    unit_a,
    national,
    transactional_db,
):
    unit_a.contact_emails = ["layanan@unit-a.go.id"]
    unit_a.head_email = "kepala@unit-a.go.id"
    unit_a.save()
    agency_a.head_email = "kepala@dinas-a.go.id"
    agency_a.save()
    service = make_service(agency_a, unit_a, name="Penerbitan Akta Kelahiran")
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    answered = late_breach(service, "REQ-ANSWERED")
    silent = late_breach(service, "REQ-SILENT")
    drain()

    # The unit officer finds both breaches unread in their inbox.
    _login(page, "editor_a")
    page.goto("/en/staff/inbox/")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    assert page.locator("tr.unread").count() == 2
    row = page.locator(f'tr[data-breach="{answered.pk}"]')
    row.get_by_role("button", name="Mark as read").click()
    assert page.locator("tr.unread").count() == 1
    page.locator(f'tr[data-breach="{answered.pk}"]').get_by_role("link").click()

    # They acknowledge, then explain.
    page.get_by_role("combobox", name="Answer").select_option("acknowledge")
    page.get_by_role("button", name="Send the answer").click()
    assert page.locator('[data-event="acknowledged"]').count() == 1
    page.get_by_role("combobox", name="Answer").select_option("explain")
    page.get_by_role("textbox", name="Text").fill(
        "The registry printer broke down; the deed was issued late."
    )
    page.get_by_role("button", name="Send the answer").click()
    assert page.locator('[data-event="explained"]').count() == 1
    answered.refresh_from_db()
    assert answered.status == BreachStatus.EXPLAINED
    assert BreachEvent.objects.filter(breach=answered, actor=editor_a).count() == 2

    # Much later: the answered breach is never escalated; the silent one climbs.
    escalate(now=wib(2026, 2, 16, 8, 0))  # 10 working days after detection
    assert _level(answered) == 0
    assert _level(silent) == 2
    drain()
    assert Notification.objects.filter(
        breach=silent, level=2, channel="inapp", user=admin_a
    ).exists()
    assert Notification.objects.filter(
        breach=silent, level=2, channel="email", recipient="kepala@dinas-a.go.id", status="sent"
    ).exists()
    assert escalate(now=wib(2027, 6, 1, 8, 0)) == {1: 0, 2: 0, 3: 1}
    assert _level(answered) == 0 and _level(silent) == 3
    drain()

    # The ombudsman (two-factor) sees the silent breach, and only it, in the review queue.
    device = TOTPDevice.objects.create(user=ombudsman, name="phone", confirmed=True)
    reviewer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    _login(reviewer, ombudsman.username)
    assert "/accounts/login/code/" in reviewer.url
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    reviewer.get_by_label("6-digit code").fill(f"{code:0{device.digits}d}")
    reviewer.get_by_role("button", name="Verify").click()
    reviewer.goto("/en/staff/breaches/queue/")
    assert reviewer.locator(f'tr[data-breach="{silent.pk}"]').count() == 1
    assert reviewer.locator(f'tr[data-breach="{answered.pk}"]').count() == 0
    reviewer.goto("/en/staff/inbox/")
    assert reviewer.locator(f'tr.unread[data-breach="{silent.pk}"]').count() == 1
    reviewer.context.close()
