"""The outbox drainer with a real SMTP server: delivered once, retried, failed, never doubled."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.db import connection
from django.utils import timezone

from notifications.channels import message_id
from notifications.models import AttemptResult, Notification, NotificationStatus
from notifications.outbox import drain, notification_resend, requeue_stale
from tests.notifications.conftest import late_breach

CONTACTS = {"layanan@unit-a.go.id", "pengaduan@unit-a.go.id"}


def _parts(message):
    return {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in message.walk()
        if not p.is_multipart()
    }


def _recipient_rows(breach):
    return Notification.objects.filter(breach=breach).exclude(recipient="").filter(channel="email")


def test_a_new_breach_emails_each_unit_contact_once(smtp, service, editor_a):
    editor_a.email = "Pengaduan@unit-a.go.id"
    editor_a.preferred_language = "en"
    editor_a.save()
    breach = late_breach(service)
    fanout = Notification.objects.get(breach=breach, recipient="")
    assert fanout.status == NotificationStatus.PENDING

    result = drain()
    assert result.outcomes == {"sent": 2}
    assert {m["To"] for m in smtp.messages} == CONTACTS
    fanout.refresh_from_db()
    assert fanout.status == NotificationStatus.EXPANDED
    rows = _recipient_rows(breach)
    assert {r.status for r in rows} == {NotificationStatus.SENT}
    assert all(r.attempt_log.get().result == AttemptResult.SENT for r in rows)

    # HTML + text, the facts, the one-click link, the Message-ID from the idempotency key.
    indonesian = smtp.handler.to("layanan@unit-a.go.id")[0]
    english = smtp.handler.to("pengaduan@unit-a.go.id")[0]
    parts = _parts(indonesian)
    assert set(parts) >= {"text/plain", "text/html"}
    assert "late" in parts["text/plain"] and "/staff/breaches/acknowledge/" in parts["text/plain"]
    assert 'href="http' in parts["text/html"]
    row = rows.get(recipient="layanan@unit-a.go.id")
    assert indonesian["Message-ID"] == message_id(row.idempotency_key)
    assert indonesian["Content-Language"] == "id" and english["Content-Language"] == "en"
    assert "/en/staff/breaches/acknowledge/" in _parts(english)["text/plain"]
    assert rows.get(recipient__iexact="pengaduan@unit-a.go.id").user == editor_a

    # Draining again sends nothing.
    drain()
    drain(now=timezone.now() + dt.timedelta(days=2))
    assert len(smtp.messages) == 2


def test_smtp_down_then_up_delivers_each_email_exactly_once(smtp, service):
    breach = late_breach(service)
    smtp.stop()
    now = timezone.now()
    drain(now=now)
    rows = _recipient_rows(breach)
    assert {r.status for r in rows} == {NotificationStatus.PENDING}  # retried later, not failed
    assert all(r.next_attempt_at >= now + dt.timedelta(seconds=60) for r in rows)
    assert all(r.attempt_log.get().result == AttemptResult.TRANSIENT for r in rows)

    drain(now=now + dt.timedelta(seconds=30))  # not due yet: no attempt
    assert all(r.attempt_log.count() == 1 for r in rows)
    drain(now=now + dt.timedelta(seconds=61))  # due, still down: backoff doubles
    assert all(
        r.next_attempt_at >= now + dt.timedelta(seconds=61 + 120) for r in _recipient_rows(breach)
    )

    smtp.start()
    drain(now=now + dt.timedelta(minutes=10))
    drain(now=now + dt.timedelta(minutes=20))
    assert sorted(m["To"] for m in smtp.messages) == sorted(CONTACTS)
    assert {r.status for r in _recipient_rows(breach)} == {NotificationStatus.SENT}
    assert all(r.attempts == 3 for r in _recipient_rows(breach))


def test_transient_failures_give_up_after_the_retry_limit(smtp, service, settings):
    settings.NOTIFICATIONS = {"RETRY_LIMIT_SECONDS": 3600}
    breach = late_breach(service)
    smtp.stop()
    now = timezone.now()
    drain(now=now)
    assert {r.status for r in _recipient_rows(breach)} == {NotificationStatus.PENDING}
    drain(now=now + dt.timedelta(hours=2))
    rows = _recipient_rows(breach)
    assert {r.status for r in rows} == {NotificationStatus.FAILED}
    assert all("Gave up after 2 attempts" in r.last_error for r in rows)


def test_a_refused_address_fails_at_once_and_is_not_retried(smtp, service, admin_a):
    smtp.handler.refused.add("pengaduan@unit-a.go.id")
    breach = late_breach(service)
    drain()
    bad = _recipient_rows(breach).get(recipient="pengaduan@unit-a.go.id")
    assert bad.status == NotificationStatus.FAILED and "550" in bad.last_error
    assert bad.attempt_log.get().result == AttemptResult.PERMANENT
    assert [m["To"] for m in smtp.messages] == ["layanan@unit-a.go.id"]  # the other one went
    drain(now=timezone.now() + dt.timedelta(days=1))
    assert bad.attempt_log.count() == 1

    # Staff fix the address at the receiving end and send it again.
    smtp.handler.refused.clear()
    notification_resend(notification=bad, acting_user=admin_a)
    drain()
    bad.refresh_from_db()
    assert bad.status == NotificationStatus.SENT
    assert sorted(m["To"] for m in smtp.messages) == sorted(CONTACTS)


def test_resend_is_refused_to_another_agency(service, editor_b, smtp):
    import pytest

    from core.errors import PermissionDeniedError

    smtp.handler.refused.add("layanan@unit-a.go.id")
    breach = late_breach(service)
    drain()
    bad = _recipient_rows(breach).get(recipient="layanan@unit-a.go.id")
    with pytest.raises(PermissionDeniedError):
        notification_resend(notification=bad, acting_user=editor_b)


def test_a_unit_without_contacts_is_visible_as_failed(smtp, service, unit_a, agency_a):
    unit_a.contact_emails = []
    unit_a.head_email = ""
    unit_a.save()
    agency_a.email = ""
    agency_a.save()
    breach = late_breach(service)
    drain()
    fanout = Notification.objects.get(breach=breach)
    assert fanout.status == NotificationStatus.FAILED and "No recipient" in fanout.last_error
    assert smtp.messages == []


def test_two_drainers_at_once_send_each_email_once(smtp, service, transactional_db):
    for i in range(8):
        late_breach(service, ref=f"late-{i}")
    assert Notification.objects.filter(recipient="").count() == 8
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            drain(batch_size=3)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(smtp.messages) == 16
    assert len({m["Message-ID"] for m in smtp.messages}) == 16
    assert (
        Notification.objects.exclude(recipient="")
        .filter(channel="email")
        .filter(status="sent")
        .count()
        == 16
    )
    assert all(
        r.attempts == 1 for r in Notification.objects.exclude(recipient="").filter(channel="email")
    )


def test_a_row_left_sending_by_a_dead_worker_is_requeued_and_sent(smtp, service):
    breach = late_breach(service)
    drain(batch_size=1, max_batches=0)  # expand only
    rows = _recipient_rows(breach)
    # A worker claimed them and died before sending or recording.
    long_ago = timezone.now() - dt.timedelta(hours=1)
    rows.update(status=NotificationStatus.SENDING, claimed_at=long_ago, attempts=1)
    assert requeue_stale(now=timezone.now() - dt.timedelta(minutes=50)) == {
        "requeued": 0,
        "waiting": 0,
    }  # not stale yet
    counts = requeue_stale()
    assert counts["requeued"] == 2
    drain()
    assert sorted(m["To"] for m in smtp.messages) == sorted(CONTACTS)
    for row in _recipient_rows(breach):
        assert [a.result for a in row.attempt_log.all()] == ["transient", "sent"]


def test_the_sweeper_counts_rows_left_pending(service, smtp):
    late_breach(service)
    later = timezone.now() + dt.timedelta(minutes=5)
    assert requeue_stale(now=later)["waiting"] == 1  # the fan-out row, written while no drain ran


def test_plain_text_and_subject_are_not_html_escaped(smtp, service, unit_a):
    unit_a.name = "Dinas Kependudukan & Pencatatan Sipil 'Kota'"
    unit_a.save()
    late_breach(service)
    drain()
    message = smtp.messages[0]
    subject = str(message["Subject"])
    plain = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    for text in (subject, plain):
        assert "&amp;" not in text and "&#x27;" not in text
    assert "Dinas Kependudukan & Pencatatan Sipil 'Kota'" in plain
    assert "Dinas Kependudukan & Pencatatan Sipil 'Kota'" in " ".join(subject.split())


def test_a_message_that_cannot_be_rendered_mid_batch_fails_alone_and_in_order(
    smtp, service, settings
):
    """The drainer composes each message while the server takes the one before: a row
    whose rendering fails still gets its outcome in its turn, after the previous message's,
    and every other message of the batch goes out and is recorded once."""
    from notifications.models import NotificationAttempt
    from notifications.outbox import expand_fanouts

    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}), "DIGEST_BURST_AT": 0}
    for i in range(3):
        late_breach(service, ref=f"late-{i}")
    while expand_fanouts(now=timezone.now(), limit=100):
        pass
    rows = list(Notification.objects.filter(channel="email").exclude(recipient="").order_by("pk"))
    assert len(rows) == 6
    Notification.objects.filter(pk=rows[2].pk).update(event="no_such_event")

    result = drain()

    assert result.outcomes == {NotificationStatus.SENT: 5, NotificationStatus.FAILED: 1}
    attempts = list(NotificationAttempt.objects.filter(notification__in=rows).order_by("pk"))
    assert [a.notification_id for a in attempts] == [r.pk for r in rows]  # in the rows' order
    assert [a.result for a in attempts] == [AttemptResult.SENT] * 2 + [AttemptResult.PERMANENT] + [
        AttemptResult.SENT
    ] * 3
    sent = [r for i, r in enumerate(rows) if i != 2]
    assert [m["Message-ID"] for m in smtp.messages] == [message_id(r.idempotency_key) for r in sent]
    statuses = dict(
        Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "status")
    )
    assert statuses == {
        r.pk: NotificationStatus.FAILED if r.pk == rows[2].pk else NotificationStatus.SENT
        for r in rows
    }


def test_one_smtp_connection_serves_every_batch_of_a_drain(smtp, service, settings):
    """The drainer keeps its connection to the mail server from one batch to the next."""
    from tests.notifications.conftest import Handler

    class Peers(Handler):
        def __init__(self) -> None:
            super().__init__()
            self.peers: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.peers.append(session.peer)
            return str(await super().handle_DATA(server, session, envelope))

    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}), "DIGEST_BURST_AT": 0}
    for i in range(3):
        late_breach(service, ref=f"late-{i}")
    smtp.stop()
    smtp.handler = handler = Peers()
    smtp.start()

    result = drain(batch_size=2)

    assert result.claimed == 6 and result.outcomes == {NotificationStatus.SENT: 6}
    assert len(handler.messages) == 6
    assert len(set(handler.peers)) == 1  # three batches, one connection


def test_the_drainer_claims_claim_size_rows_at_once(smtp, service, settings):
    settings.NOTIFICATIONS = {
        **getattr(settings, "NOTIFICATIONS", {}),
        "DIGEST_BURST_AT": 0,
        "CLAIM_SIZE": 4,
    }
    for i in range(3):
        late_breach(service, ref=f"late-{i}")  # 6 emails

    assert drain(max_batches=1).claimed == 4
    assert drain(max_batches=1).claimed == 2
    assert len(smtp.messages) == 6
