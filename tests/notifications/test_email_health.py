"""Email addresses the SMTP server keeps refusing are disabled, the agency admins are told,
and an agency admin enables them again. A real local SMTP server (550 for the refused
addresses) and breaches made by the real sweep."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from core.errors import PermissionDeniedError
from notifications.channels import Unsubscribed, classify_email_error
from notifications.models import (
    AttemptResult,
    EmailAddressHealth,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from notifications.outbox import drain, expand_fanouts
from notifications.settings_services import email_address_enable
from oversight.escalation import escalate
from tests.accounts.conftest import en, login_verified
from tests.delivery.conftest import wib
from tests.factories import MembershipFactory, UnitFactory, UserFactory
from tests.notifications.conftest import late_breach

LAYANAN = "layanan@unit-a.go.id"
PENGADUAN = "pengaduan@unit-a.go.id"
HEAD = "kepala@unit-a.go.id"
DETECTED_FRIDAY = wib(2026, 4, 10, 10)


def _health(email: str) -> EmailAddressHealth | None:
    return EmailAddressHealth.objects.filter(email__iexact=email).first()


def _text(message: Any) -> str:
    return str(
        next(
            p.get_payload(decode=True).decode()
            for p in message.walk()
            if p.get_content_type() == "text/plain"
        )
    )


def _disable(email: str, error: str = "SMTPRecipientsRefused: 550 No such user") -> Any:
    return EmailAddressHealth.objects.create(
        email=email, consecutive_permanent_failures=5, last_error=error, disabled_at=timezone.now()
    )


# --- Counting refusals, disabling, the notice ----------------------------------------------


def test_five_refusals_disable_the_address_and_tell_the_agency_admin_once(
    smtp, service, admin_a, editor_a
):
    admin_a.preferred_language = "en"  # English assertions survive a filled .po file
    admin_a.save()
    smtp.handler.refused.add(LAYANAN)
    for i in range(4):
        late_breach(service, f"ref{i}")
        drain()
        health = _health(LAYANAN)
        assert health is not None and health.consecutive_permanent_failures == i + 1
        assert health.disabled_at is None
    assert not Notification.objects.filter(event="email_disabled").exists()

    late_breach(service, "ref4")
    drain()  # the fifth refusal disables it; the same drain sends the notice
    health = _health(LAYANAN)
    assert health is not None and health.disabled_at is not None
    assert health.consecutive_permanent_failures == 5
    assert "550" in health.last_error and "No such user" in health.last_error
    notice = Notification.objects.get(event="email_disabled")  # exactly one
    assert notice.recipient == admin_a.email and notice.user == admin_a
    assert notice.status == NotificationStatus.SENT
    to_admin = smtp.handler.to(admin_a.email)
    assert len(to_admin) == 1
    assert LAYANAN in to_admin[0]["Subject"]
    body = _text(to_admin[0])
    assert LAYANAN in body and "550" in body and "5 times in a row" in body
    assert "&#x27;" not in body  # plain text, not HTML-escaped
    assert f"/agency/{service.agency.slug}/" in body  # the settings page, to enable it again
    # The editor is no admin: no notice. The other contact got all five breaches.
    assert smtp.handler.to(editor_a.email) == []
    assert len(smtp.handler.to(PENGADUAN)) == 5

    # Rows already queued for it that are refused again neither count nor notify again.
    late_breach(service, "ref5")
    drain()
    health.refresh_from_db()
    assert health.consecutive_permanent_failures == 5
    assert Notification.objects.filter(event="email_disabled").count() == 1
    assert len(smtp.handler.to(admin_a.email)) == 1


def test_a_success_in_between_resets_the_count(smtp, service, admin_a, settings):
    settings.NOTIFICATIONS = {"EMAIL_DISABLE_AFTER": 3}
    smtp.handler.refused.add(LAYANAN)
    for ref in ("a", "b"):
        late_breach(service, ref)
        drain()
    health = _health(LAYANAN)
    assert health is not None and health.consecutive_permanent_failures == 2

    smtp.handler.refused.clear()  # the mailbox is back: accepted, the count starts over
    late_breach(service, "c")
    drain()
    health.refresh_from_db()
    assert health.consecutive_permanent_failures == 0 and health.disabled_at is None

    smtp.handler.refused.add(LAYANAN)
    for ref in ("d", "e"):
        late_breach(service, ref)
        drain()
    health.refresh_from_db()
    assert health.consecutive_permanent_failures == 2 and health.disabled_at is None
    assert not Notification.objects.filter(event="email_disabled").exists()
    late_breach(service, "f")
    drain()
    health.refresh_from_db()
    assert health.disabled_at is not None
    assert len(smtp.handler.to(admin_a.email)) == 1


@pytest.mark.parametrize(
    ("exc", "counts", "result"),
    [
        (
            smtplib.SMTPRecipientsRefused({LAYANAN: (550, b"5.1.1 No such user")}),
            True,
            AttemptResult.PERMANENT,
        ),
        (
            smtplib.SMTPRecipientsRefused({LAYANAN: (450, b"4.2.1 Mailbox busy")}),
            False,
            AttemptResult.PERMANENT,  # refused outright: not retried, but not counted
        ),
        # Our own From refused: not the recipient's fault, must not disable every address.
        (
            smtplib.SMTPSenderRefused(550, b"Sender denied", "maklumat@example.org"),
            False,
            AttemptResult.PERMANENT,
        ),
        (smtplib.SMTPDataError(554, b"Message rejected"), False, AttemptResult.PERMANENT),
        (
            Unsubscribed("The citizen no longer follows this request."),
            False,
            AttemptResult.PERMANENT,
        ),
    ],
)
def test_only_a_recipient_refused_permanently_counts(exc, counts, result):
    outcome = classify_email_error(exc)
    assert outcome.address_refused is counts
    assert outcome.result == result


def test_a_transient_failure_counts_nothing(smtp, service, settings):
    settings.NOTIFICATIONS = {"EMAIL_DISABLE_AFTER": 1}
    smtp.stop()
    breach = late_breach(service)
    drain()  # connection refused: retried later, never counted against the address
    rows = Notification.objects.filter(breach=breach, channel="email").exclude(recipient="")
    assert rows.count() == 2 and not rows.exclude(status=NotificationStatus.PENDING).exists()
    assert not EmailAddressHealth.objects.exists()
    smtp.start()
    smtp.handler.refused.add(PENGADUAN)
    late_breach(service, "two")
    drain()
    health = _health(PENGADUAN)
    assert health is not None and health.disabled_at is not None  # a limit of 1
    assert _health(LAYANAN) is None


def test_the_notice_goes_to_the_admins_of_every_agency_listing_the_address(
    smtp, service, admin_a, agency_b, unit_b, settings
):
    settings.NOTIFICATIONS = {"EMAIL_DISABLE_AFTER": 1}
    admin_b: Any = UserFactory(username="admin_b")
    MembershipFactory(user=admin_b, agency=agency_b, role=Role.AGENCY_ADMIN)
    outsider: Any = UserFactory(username="admin_c")
    MembershipFactory(user=outsider, agency=UnitFactory(slug="c").agency, role=Role.AGENCY_ADMIN)
    unit_b.head_email = LAYANAN.upper()  # listed by a unit of agency B too, in another case
    unit_b.save()
    smtp.handler.refused.add(LAYANAN)
    late_breach(service)
    drain()
    notices = Notification.objects.filter(event="email_disabled")
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(
        [admin_a.email, admin_b.email]
    )
    assert notices.get(recipient=admin_b.email).unit == unit_b
    assert len(smtp.handler.to(admin_a.email)) == 1
    assert len(smtp.handler.to(admin_b.email)) == 1
    assert smtp.handler.to(outsider.email) == []


# --- Skipping disabled addresses ---------------------------------------------------------


def test_a_disabled_address_gets_no_new_rows_while_the_other_contact_does(smtp, service, unit_a):
    _disable("Layanan@Unit-A.go.id")  # case-insensitive
    breach = late_breach(service)
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN]
    assert not Notification.objects.filter(breach=breach, recipient__iexact=LAYANAN).exists()
    fanout = Notification.objects.get(breach=breach, recipient="", channel="email")
    assert fanout.status == NotificationStatus.EXPANDED


def test_every_contact_disabled_fails_the_fan_out_with_its_own_reason(smtp, service, editor_a):
    _disable(LAYANAN)
    _disable(PENGADUAN)
    breach = late_breach(service)
    drain()
    assert smtp.messages == []
    fanout = Notification.objects.get(breach=breach, recipient="", channel="email")
    assert fanout.status == NotificationStatus.FAILED
    assert "disabled" in fanout.last_error
    # The in-app inbox still has it.
    assert Notification.objects.filter(breach=breach, channel="inapp", user=editor_a).exists()


def test_an_escalation_to_a_disabled_head_goes_to_the_units_contacts(smtp, service):
    _disable(HEAD)
    breach = late_breach(service, swept_at=DETECTED_FRIDAY)
    drain()
    assert escalate(now=wib(2026, 4, 15, 8, 0)) == {1: 1, 2: 0, 3: 0}
    drain()
    level1 = Notification.objects.filter(breach=breach, level=1, channel="email")
    assert set(level1.exclude(recipient="").values_list("recipient", flat=True)) == {
        LAYANAN,
        PENGADUAN,
    }
    assert sorted(m["To"] for m in smtp.messages) == sorted([LAYANAN, PENGADUAN] * 2)


def test_an_escalation_with_every_address_disabled_fails_with_no_recipient(smtp, service):
    for email in (HEAD, LAYANAN, PENGADUAN):
        _disable(email)
    breach = late_breach(service, swept_at=DETECTED_FRIDAY)
    drain()
    escalate(now=wib(2026, 4, 15, 8, 0))
    drain()
    fanout = Notification.objects.get(breach=breach, level=1, recipient="", channel="email")
    assert fanout.status == NotificationStatus.FAILED and "disabled" in fanout.last_error
    assert smtp.messages == []


def test_disabled_addresses_are_resolved_once_per_batch(service, unit_a):
    def expand(refs: list[str]) -> int:
        for ref in refs:
            late_breach(service, ref)
        with CaptureQueriesContext(connection) as queries:
            assert expand_fanouts() == len(refs)
        return len(queries)

    _disable(LAYANAN)
    expand(["zero"])  # warm the process's caches (content types): run alone, it counts them
    one = expand(["one"])
    many = expand(["two", "three", "four", "five"])
    assert many == one
    assert not Notification.objects.filter(recipient=LAYANAN).exists()
    assert Notification.objects.filter(recipient=PENGADUAN).count() == 6


# --- The SENT fast path stays one statement per message --------------------------------------


def test_a_drain_of_sent_messages_costs_one_statement_per_message(smtp, service, unit_a):
    # A health row with a count for one contact: the reset rides in the same statement.
    EmailAddressHealth.objects.create(email="orang0@unit-a.go.id", consecutive_permanent_failures=2)

    def drain_n(ref: str, n: int) -> int:
        unit_a.contact_emails = [f"orang{i}@unit-a.go.id" for i in range(n)]
        unit_a.save()
        breach = late_breach(service, ref)
        with CaptureQueriesContext(connection) as queries:
            result = drain()
        assert result.outcomes == {NotificationStatus.SENT: n}
        rows = Notification.objects.filter(breach=breach, channel="email").exclude(recipient="")
        assert rows.count() == n and not rows.exclude(status=NotificationStatus.SENT).exists()
        attempts = NotificationAttempt.objects.filter(notification__in=rows)
        assert attempts.count() == n and {a.result for a in attempts} == {AttemptResult.SENT}
        return len(queries)

    # The content types of every registered subject model are read once per process (the
    # drain's generic prefetch); read them now, so that neither drain below pays for them.
    from django.contrib.contenttypes.models import ContentType

    from notifications import registry

    prefetch = registry.subject_prefetch()
    ContentType.objects.get_for_models(*(qs.model for qs in getattr(prefetch, "querysets", [])))
    two = drain_n("two", 2)
    health = _health("orang0@unit-a.go.id")
    assert health is not None and health.consecutive_permanent_failures == 0
    six = drain_n("six", 6)
    assert six - two == 4  # exactly one statement per extra message
    assert len(smtp.messages) == 8


# --- Enabling again from the agency settings page -------------------------------------------


def test_an_agency_admin_sees_and_enables_a_disabled_address(smtp, client, service, admin_a):
    health = _disable(LAYANAN, error="SMTPRecipientsRefused: 550 5.1.1 No such user here")
    other = _disable("orang@lain.go.id")  # listed by no unit of agency A
    login_verified(client, admin_a)
    page = en("notifications:agency_settings", agency_slug=service.agency.slug)
    html = client.get(page).content.decode()
    assert LAYANAN in html and "550 5.1.1 No such user here" in html
    assert f'data-address="{health.pk}"' in html
    assert other.email not in html
    enable = en("notifications:address_enable", agency_slug=service.agency.slug, pk=health.pk)
    assert f'action="{enable}"' in html
    assert html.count("<form") == html.count('name="csrfmiddlewaretoken"')

    response = client.post(enable)
    assert response.status_code == 302
    health.refresh_from_db()
    assert health.disabled_at is None and health.consecutive_permanent_failures == 0
    html = client.get(page).content.decode()
    assert f"The address {LAYANAN} will receive notifications again." in html  # the message
    assert f'data-address="{health.pk}"' not in html and enable not in html

    # Enabled: it gets the next breach again.
    late_breach(service)
    drain()
    assert sorted(m["To"] for m in smtp.messages) == sorted([LAYANAN, PENGADUAN])

    # An address no unit of the agency lists is not found through its page.
    response = client.post(
        en("notifications:address_enable", agency_slug=service.agency.slug, pk=other.pk)
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.disabled_at is not None


@pytest.mark.parametrize(
    ("who", "through", "expected"),
    [("editor_a", "a", 403), ("admin_b", "a", 404), ("admin_b", "b", 404), ("anonymous", "a", 302)],
)
def test_enabling_is_refused_to_others(
    client, service, editor_a, agency_b, unit_b, who, through, expected
):
    health = _disable(LAYANAN)
    admin_b: Any = UserFactory(username="admin_b")
    MembershipFactory(user=admin_b, agency=agency_b, role=Role.AGENCY_ADMIN)
    user = {"editor_a": editor_a, "admin_b": admin_b, "anonymous": None}[who]
    if user is not None:
        login_verified(client, user)
    agency = service.agency if through == "a" else agency_b
    response = client.post(
        en("notifications:address_enable", agency_slug=agency.slug, pk=health.pk)
    )
    assert response.status_code == expected
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]
    health.refresh_from_db()
    assert health.disabled_at is not None and health.consecutive_permanent_failures == 5


def test_only_a_superuser_enables_an_address_no_unit_lists(client, superuser, admin_a, service):
    health = _disable("orang@lain.go.id")
    with pytest.raises(PermissionDeniedError):
        email_address_enable(health=health, acting_user=admin_a)
    login_verified(client, superuser)
    changelist = reverse("admin:notifications_emailaddresshealth_changelist")
    assert client.get(changelist).status_code == 200
    response = client.post(changelist, {"action": "enable", "_selected_action": [health.pk]})
    assert response.status_code == 302
    health.refresh_from_db()
    assert health.disabled_at is None and health.consecutive_permanent_failures == 0
