"""The daily digest: a unit that chose it gets one email per recipient per day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications.models import Notification, NotificationStatus, UnitNotificationPreference
from notifications.outbox import digest_collect, digest_key, drain
from tests.notifications.conftest import late_breach

CONTACTS = {"layanan@unit-a.go.id", "pengaduan@unit-a.go.id"}


def _text(message) -> str:
    return next(
        p.get_payload(decode=True).decode()
        for p in message.walk()
        if p.get_content_type() == "text/plain"
    )


def test_breaches_are_held_then_sent_as_one_digest_per_recipient_per_day(
    smtp, service, unit_a, editor_a
):
    UnitNotificationPreference.objects.create(unit=unit_a, digest=True)
    first = late_breach(service, "one")
    second = late_breach(service, "two")
    drain()
    assert smtp.messages == []  # nothing sent one by one
    held = Notification.objects.filter(channel="digest")
    assert held.count() == 4 and {r.status for r in held} == {NotificationStatus.PENDING}
    # The in-app inbox is not held back.
    assert Notification.objects.filter(channel="inapp", user=editor_a).count() == 2

    now = timezone.now()
    assert digest_collect(now=now) == 2
    assert digest_collect(now=now) == 0  # idempotent
    drain()
    assert sorted(m["To"] for m in smtp.messages) == sorted(CONTACTS)
    for message in smtp.messages:
        text = _text(message)
        assert "one" in text and "two" in text
        assert text.count("/staff/breaches/acknowledge/") == 2
    digest = Notification.objects.get(
        idempotency_key=digest_key(
            unit_id=unit_a.pk, recipient="layanan@unit-a.go.id", date=timezone.localdate(now)
        )
    )
    assert digest.status == NotificationStatus.SENT
    assert {i.subject for i in digest.digest_items.all()} == {first, second}
    assert {r.status for r in held.all()} == {NotificationStatus.EXPANDED}

    # A breach later the same day waits for tomorrow's digest: never two digests a day.
    late_breach(service, "three")
    drain()
    # (Right after it, not "now + 5 minutes": near midnight WIB that was tomorrow.)
    assert digest_collect(now=timezone.now()) == 0
    drain()
    assert len(smtp.messages) == 2
    assert digest_collect(now=now + dt.timedelta(days=1)) == 2
    drain(now=now + dt.timedelta(days=1))
    assert len(smtp.messages) == 4
    tomorrow = smtp.messages[2:]
    assert all("three" in _text(m) and "/one" not in _text(m) for m in tomorrow)


def test_a_unit_without_the_digest_still_gets_one_email_per_breach(smtp, service, unit_a):
    UnitNotificationPreference.objects.create(unit=unit_a, digest=False)
    late_breach(service, "one")
    drain()
    assert digest_collect() == 0
    assert {m["To"] for m in smtp.messages} == CONTACTS
    assert not Notification.objects.filter(channel="digest").exists()


def test_escalations_are_never_held_for_the_digest(smtp, service, unit_a):
    from oversight.escalation import escalate
    from tests.delivery.conftest import wib

    UnitNotificationPreference.objects.create(unit=unit_a, digest=True)
    late_breach(service, "one", swept_at=wib(2026, 4, 10, 10))
    drain()
    escalate(now=wib(2026, 4, 15, 8, 0))
    drain()
    assert [m["To"] for m in smtp.messages] == ["kepala@unit-a.go.id"]


def test_the_digest_is_scheduled_daily(db):
    task = PeriodicTask.objects.get(task="notifications.digest")
    assert task.crontab is not None and task.crontab.hour == "7"
