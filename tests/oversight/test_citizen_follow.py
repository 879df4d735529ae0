"""The citizen concerned follows their request from the public tracking page, confirms the
address by the link in a real confirmation email (double opt-in), and is told, by a real
email through a real SMTP server, when the unit answers a breach about it."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from email.message import Message

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from charter.services import charter_draft_create, charter_publish
from notifications.models import Notification, NotificationStatus
from notifications.outbox import drain, idempotency_key
from oversight import answers, followers
from oversight.models import FOLLOWER_CONFIRM_SALT, BreachEvent, CitizenFollower
from oversight.tasks import purge_unconfirmed_followers_task
from tests.delivery.conftest import wib
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach

service = notifications_conftest.service
smtp = notifications_conftest.smtp

CITIZEN = "Warga.Pelapor@example.com"
NOW = wib(2026, 2, 3, 10, 0)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db) -> Iterator[None]:
    # Rate-limit counters live in the shared cache: start every test at zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def breach(service):
    return late_breach(service, "AGENCY-REF-0077")


@pytest.fixture
def delivery(breach):
    return breach.delivery


def track_url(delivery) -> str:
    return reverse("track:detail", kwargs={"code": delivery.tracking_code})


def follow(client, delivery, email: str = CITIZEN):
    return client.post(
        reverse("track:follow", kwargs={"code": delivery.tracking_code}), {"email": email}
    )


def confirm_url(follower: CitizenFollower) -> str:
    return reverse("track:confirm", kwargs={"token": follower.signed_confirmation_token()})


def follow_confirmed(client, delivery, email: str = CITIZEN) -> CitizenFollower:
    """Follow, then press the button behind the confirmation link."""
    assert follow(client, delivery, email).status_code == 302
    follower = CitizenFollower.objects.get(delivery=delivery, email__iexact=email)
    response = client.post(confirm_url(follower))
    assert response.status_code == 200 and b"data-confirmed" in response.content
    follower.refresh_from_db()
    assert follower.confirmed_at is not None
    return follower


def said(response) -> str:
    """The page's flash messages."""
    match = re.search(r'class="wrap messages".*?</div>', response.content.decode(), re.S)
    assert match, response.content.decode()
    return match.group(0)


def indonesian(msgid: str) -> str:
    """The Indonesian text of a UI string; fails if it has no translation."""
    with translation.override("id"):
        text = gettext(msgid)
    assert text != msgid, f"No Indonesian translation for {msgid!r}"
    return text


def parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def of_event(smtp, event: str, address: str = CITIZEN) -> list[Message]:
    return [
        m
        for m in smtp.handler.to(address)
        # (a long header is folded on the wire)
        if "".join(str(m["X-Maklumat-Notification"]).split()).startswith(f"{event}:")
    ]


def link_path(message: Message, kind: str) -> str:
    match = re.search(rf"https?://[^/\s]+(/\S*?track/{kind}/\S+/)", parts(message)["text/plain"])
    assert match, parts(message)["text/plain"]
    return match.group(1)


def unsubscribe_path(message: Message) -> str:
    return link_path(message, "unsubscribe")


# --- Following ------------------------------------------------------------------------------


def test_following_writes_an_unconfirmed_follower_and_one_confirmation_email(client, delivery):
    page = client.get(track_url(delivery))
    assert page.status_code == 200
    assert b'id="follow"' in page.content and b'name="email"' in page.content
    assert b"csrfmiddlewaretoken" in page.content

    done = follow(client, delivery)
    assert done.status_code == 302
    assert done["Location"].endswith(track_url(delivery) + "#follow")
    follower = CitizenFollower.objects.get(delivery=delivery)
    assert follower.email == CITIZEN
    assert follower.confirmed_at is None and follower.confirmation_sent_at is not None

    row = Notification.objects.get(event="follow_confirm")
    assert (
        row.channel,
        row.recipient,
        row.subject,
        row.unit_id,
        row.level,
        row.status,
    ) == ("email", CITIZEN, follower, delivery.unit_id, 0, NotificationStatus.PENDING)
    moment = follower.confirmation_sent_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    assert row.idempotency_key == idempotency_key(
        event="follow_confirm",
        subject=f"follower:{follower.pk}:{moment}",
        recipient=CITIZEN,
        channel="email",
        level=0,
    )

    shown = client.get(done["Location"])
    assert (
        indonesian(
            "Thank you. Check your email to confirm your address: only then will we email "
            "you when the office answers about this request."
        )
        in shown.content.decode()
    )
    for response in (shown, client.get(track_url(delivery))):
        assert response.status_code == 200
        body = response.content.decode().lower()
        assert CITIZEN.lower() not in body and "warga.pelapor" not in body

    # Following again (any case) keeps one row; another browser sees nothing of it either.
    assert follow(client, delivery, CITIZEN.upper()).status_code == 302
    assert CitizenFollower.objects.filter(delivery=delivery).count() == 1
    other = client.__class__()
    assert "warga.pelapor" not in other.get(track_url(delivery)).content.decode().lower()


def test_a_rolled_back_follow_writes_no_confirmation(delivery):
    with pytest.raises(RuntimeError), transaction.atomic():
        followers.citizen_follow(delivery=delivery, email=CITIZEN)
        raise RuntimeError("boom")
    assert not CitizenFollower.objects.exists()
    assert not Notification.objects.filter(event="follow_confirm").exists()


def test_a_bad_address_is_a_field_error(client, delivery):
    with translation.override("en"):
        url = reverse("track:follow", kwargs={"code": delivery.tracking_code})
    response = client.post(url, {"email": "not an address"})
    assert response.status_code == 400
    assert b'id="id_email_error"' in response.content
    assert b"valid email address" in response.content
    assert not CitizenFollower.objects.exists()
    assert not Notification.objects.filter(event="follow_confirm").exists()


def test_an_unknown_code_is_not_found_and_a_get_is_refused(client, delivery):
    assert (
        client.post(reverse("track:follow", kwargs={"code": "ABCDEFGHJK"}), {"email": CITIZEN})
    ).status_code == 404
    follow_url = reverse("track:follow", kwargs={"code": delivery.tracking_code})
    assert client.get(follow_url).status_code == 405
    assert not CitizenFollower.objects.exists()


def test_following_is_rate_limited(client, delivery):
    for n in range(10):
        assert follow(client, delivery, f"warga{n}@example.com").status_code == 302
    assert follow(client, delivery, "warga99@example.com").status_code == 429
    assert CitizenFollower.objects.count() == 10
    assert Notification.objects.filter(event="follow_confirm").count() == 10


def test_a_second_follow_within_an_hour_sends_no_second_confirmation(client, smtp, delivery):
    first = follow(client, delivery)
    first_said = said(client.get(first["Location"]))
    again = follow(client, delivery, CITIZEN.lower())
    # The same words for a new address and one already waiting: nothing to learn.
    assert again["Location"] == first["Location"]
    assert said(client.get(again["Location"])) == first_said
    assert "konfirmasi" in first_said.lower()
    assert Notification.objects.filter(event="follow_confirm").count() == 1
    drain()
    assert len(of_event(smtp, "follow_confirm")) == 1

    follower = CitizenFollower.objects.get(delivery=delivery)
    sent_at = follower.confirmation_sent_at
    assert sent_at is not None
    followers.citizen_follow(
        delivery=delivery, email=CITIZEN, now=sent_at + dt.timedelta(minutes=59)
    )
    assert Notification.objects.filter(event="follow_confirm").count() == 1
    # An hour later, asking again sends a new link (a lost or expired email is not a dead end).
    followers.citizen_follow(delivery=delivery, email=CITIZEN, now=sent_at + dt.timedelta(hours=1))
    assert Notification.objects.filter(event="follow_confirm").count() == 2
    drain()
    assert len(of_event(smtp, "follow_confirm")) == 2


def test_a_confirmed_address_following_again_gets_no_confirmation(client, delivery):
    follower = follow_confirmed(client, delivery)
    followers.citizen_follow(
        delivery=delivery, email=CITIZEN, now=timezone.now() + dt.timedelta(days=2)
    )
    assert Notification.objects.filter(event="follow_confirm").count() == 1
    assert follow(client, delivery).status_code == 302
    follower.refresh_from_db()
    assert follower.confirmed_at is not None


def test_staff_see_only_how_many_follow(client, breach, delivery, editor_a):
    follow_confirmed(client, delivery)
    # An address that never confirmed is not counted: it will not be told of the answer.
    followers.citizen_follow(delivery=delivery, email="belum.konfirmasi@example.org")
    client.force_login(editor_a)
    page = client.get(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
    assert page.status_code == 200
    assert b'data-followers="1"' in page.content
    assert "warga.pelapor" not in page.content.decode().lower()


# --- Confirming ----------------------------------------------------------------------------


def test_the_confirmation_email_is_short_indonesian_and_has_no_staff_link(
    client, smtp, service, delivery
):
    drain()  # the unit's own new-breach emails
    follow(client, delivery)
    drain()
    (message,) = smtp.handler.to(CITIZEN)
    assert message["Content-Language"] == "id"  # Indonesian by default
    with translation.override("id"):
        subject = gettext("Confirm your email address for your request: %(service)s") % {
            "service": service.name
        }
    assert message["Subject"] == subject
    content = parts(message)
    assert set(content) == {"text/plain", "text/html"}
    ignore = indonesian(
        "Not you? Ignore this email: we will send you nothing more, and we delete the "
        "address after %(days)s days."
    ) % {"days": 7}
    path = link_path(message, "confirm")
    for body in content.values():
        assert service.name in body and delivery.unit.name in body
        assert ignore in body
        assert path in body
        assert "/staff/" not in body and "/en/" not in body
        assert unsubscribe_path(message) in body  # whoever did not ask can forget it now
        assert delivery.reference not in body  # the agency's internal reference stays inside
        assert delivery.tracking_code not in body  # the address is not verified yet
    assert Notification.objects.get(event="follow_confirm").status == NotificationStatus.SENT


def test_whoever_did_not_ask_can_have_the_address_forgotten_at_once(client, smtp, delivery):
    follow(client, delivery)
    drain()
    message = next(m for m in smtp.messages if m["To"] == CITIZEN)
    forget = unsubscribe_path(message)
    assert client.get(forget).status_code == 200
    assert CitizenFollower.objects.filter(email=CITIZEN).exists()  # GET only asks
    assert client.post(forget).status_code == 200
    assert not CitizenFollower.objects.filter(email=CITIZEN).exists()
    assert not Notification.objects.filter(recipient=CITIZEN).exists()  # nothing kept


def test_the_link_asks_on_get_and_confirms_on_post_once(client, smtp, delivery):
    follow(client, delivery)
    drain()
    (message,) = smtp.handler.to(CITIZEN)
    url = link_path(message, "confirm")

    page = client.get(url)
    assert page.status_code == 200
    assert b'<form method="post"' in page.content and b"csrfmiddlewaretoken" in page.content
    assert b"data-confirmed" not in page.content
    assert "warga.pelapor" not in page.content.decode().lower()
    follower = CitizenFollower.objects.get(delivery=delivery)
    assert follower.confirmed_at is None  # GET changes nothing

    done = client.post(url)
    assert done.status_code == 200 and b"data-confirmed" in done.content
    follower.refresh_from_db()
    first = follower.confirmed_at
    assert first is not None

    # Twice is harmless: the first confirmation stands.
    again = client.post(url)
    assert again.status_code == 200 and b"data-confirmed" in again.content
    assert client.get(url).status_code == 200
    follower.refresh_from_db()
    assert follower.confirmed_at == first
    assert CitizenFollower.objects.filter(delivery=delivery).count() == 1


class _EightDaysAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 8 * 24 * 3600)


def test_a_forged_or_expired_confirmation_link_is_refused(client, delivery):
    follow(client, delivery)
    follower = CitizenFollower.objects.get(delivery=delivery)
    forged = follower.signed_confirmation_token()[:-2] + "xx"
    expired = _EightDaysAgo(salt=FOLLOWER_CONFIRM_SALT).sign(follower.unsubscribe_token)
    # Nor does the unsubscribe link's signature open the confirmation.
    other_salt = follower.signed_unsubscribe_token()
    for token, marker in (
        (forged, b"data-link-invalid"),
        (other_salt, b"data-link-invalid"),
        (expired, b"data-link-expired"),
    ):
        url = reverse("track:confirm", kwargs={"token": token})
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 400
            assert marker in response.content
    follower.refresh_from_db()
    assert follower.confirmed_at is None
    # The genuine one still works.
    assert b"data-confirmed" in client.post(confirm_url(follower)).content


def test_a_link_for_a_deleted_follower_has_nothing_to_confirm(client, delivery):
    follow(client, delivery)
    follower = CitizenFollower.objects.get(delivery=delivery)
    url = confirm_url(follower)
    follower.delete()
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 200
        assert b"data-nothing-to-confirm" in response.content
        assert b'<form method="post"' not in response.content
    assert not CitizenFollower.objects.exists()


def test_a_confirmation_is_not_sent_once_moot(client, smtp, delivery):
    follow(client, delivery)
    follower = CitizenFollower.objects.get(delivery=delivery)
    followers.citizen_follow_confirm(follower=follower)  # confirmed before the drain
    follow(client, delivery, "lain@example.com")
    CitizenFollower.objects.filter(email="lain@example.com").delete()  # gone before the drain
    drain()
    assert smtp.handler.to(CITIZEN) == [] and smtp.handler.to("lain@example.com") == []
    errors = sorted(
        Notification.objects.filter(event="follow_confirm").values_list("status", "last_error")
    )
    assert [status for status, _error in errors] == [NotificationStatus.FAILED] * 2
    assert {error.split(": ", 1)[1] for _status, error in errors} == {
        "The address is already confirmed.",
        "The address to confirm is gone.",
    }


# --- Told of the answer ---------------------------------------------------------------------


def test_an_unconfirmed_follower_gets_no_answer_email(client, smtp, breach, delivery, editor_a):
    drain()  # the unit's own new-breach emails
    follow(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Server SIAK mati 3 hari")
    assert not Notification.objects.filter(event="breach_answered").exists()
    drain()
    assert of_event(smtp, "breach_answered") == []
    assert len(of_event(smtp, "follow_confirm")) == 1  # only the confirmation


def test_the_follower_gets_exactly_one_email_after_the_unit_explains(
    client, smtp, breach, delivery, editor_a
):
    drain()  # the unit's own new-breach emails
    follow(client, delivery)
    drain()
    (confirmation,) = smtp.handler.to(CITIZEN)
    assert b"data-confirmed" in client.post(link_path(confirmation, "confirm")).content

    client.force_login(editor_a)
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    assert (
        client.post(answer, {"action": "explain", "text": "Server SIAK mati 3 hari"}).status_code
        == 302
    )

    event = BreachEvent.objects.get(breach=breach, kind="explained")
    row = Notification.objects.get(event="breach_answered")
    assert (
        row.channel,
        row.recipient,
        row.subject,
        row.subject_event_id,
        row.unit_id,
        row.level,
        row.status,
    ) == ("email", CITIZEN, breach, event.pk, breach.unit_id, 0, NotificationStatus.PENDING)
    assert row.idempotency_key == idempotency_key(
        event="breach_answered",
        subject=f"breach:{breach.pk}:event:{event.pk}",
        recipient=CITIZEN,
        channel="email",
        level=0,
    )

    drain()
    drain()
    received = of_event(smtp, "breach_answered")
    assert len(received) == 1
    assert len(smtp.handler.to(CITIZEN)) == 2  # the confirmation, then the answer
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT

    message = received[0]
    assert message["Content-Language"] == "id"  # Indonesian by default
    assert message["List-Unsubscribe"]
    content = parts(message)
    assert set(content) == {"text/plain", "text/html"}
    for body in content.values():
        assert "Server SIAK mati 3 hari" in body
        assert track_url(delivery) in body
        assert "/track/unsubscribe/" in body
        assert "/staff/" not in body and "/en/" not in body
        assert "acknowledge" not in body
        assert delivery.reference not in body  # the agency's internal reference stays inside
    assert "/staff/" not in message["List-Unsubscribe"]


def test_only_confirmed_followers_are_told(client, breach, delivery, editor_a):
    follow_confirmed(client, delivery)
    follow(client, delivery, "belum.konfirmasi@example.com")
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
    assert list(
        Notification.objects.filter(event="breach_answered").values_list("recipient", flat=True)
    ) == [CITIZEN]


def test_remedy_dispute_and_compensation_each_tell_the_follower(
    client, service, unit_a, breach, delivery, editor_a
):
    follow_confirmed(client, delivery)
    charter = charter_draft_create(
        unit=unit_a,
        services=[service],
        signatory_name="A",
        signatory_title="B",
        signed_on=dt.date(2025, 1, 2),
        compensation_per_day=20_000,
    )
    charter_publish(charter=charter)
    answers.breach_acknowledge(breach=breach, acting_user=editor_a)
    assert not Notification.objects.filter(event="breach_answered").exists()  # not an answer yet
    answers.breach_dispute(breach=breach, acting_user=editor_a, text="Pemohon minta ditunda")
    answers.breach_remedy(breach=breach, acting_user=editor_a, text="KTP-el diserahkan")
    answers.breach_record_compensation(
        breach=breach, acting_user=editor_a, amount=100_000, paid_on=dt.date(2026, 1, 25), now=NOW
    )
    rows = Notification.objects.filter(event="breach_answered")
    assert rows.count() == 3
    events = BreachEvent.objects.filter(
        breach=breach, kind__in=["disputed", "remedied", "compensated"]
    )
    assert {r.subject_event_id for r in rows} == {e.pk for e in events}


def test_the_compensation_email_says_what_was_paid(
    client, smtp, service, unit_a, breach, delivery, editor_a
):
    follow_confirmed(client, delivery)
    charter = charter_draft_create(
        unit=unit_a,
        services=[service],
        signatory_name="A",
        signatory_title="B",
        signed_on=dt.date(2025, 1, 2),
        compensation_per_day=20_000,
    )
    charter_publish(charter=charter)
    answers.breach_record_compensation(
        breach=breach, acting_user=editor_a, amount=100_000, paid_on=dt.date(2026, 1, 25), now=NOW
    )
    drain()
    (message,) = of_event(smtp, "breach_answered")
    text = parts(message)["text/plain"]
    assert "Rp 100.000" in text and "25 Januari 2026" in text


def test_a_rolled_back_answer_writes_nothing(client, breach, delivery, editor_a):
    follow_confirmed(client, delivery)
    with pytest.raises(RuntimeError), transaction.atomic():
        answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
        raise RuntimeError("boom")
    assert not Notification.objects.filter(event="breach_answered").exists()
    assert not BreachEvent.objects.filter(breach=breach).exists()


# --- Unsubscribing ---------------------------------------------------------------------------


def test_unsubscribe_asks_on_get_and_forgets_on_post(client, smtp, breach, delivery, editor_a):
    follow_confirmed(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan pertama")
    drain()
    (message,) = of_event(smtp, "breach_answered")
    url = unsubscribe_path(message)

    page = client.get(url)
    assert page.status_code == 200
    assert b'<form method="post"' in page.content
    assert "warga.pelapor" not in page.content.decode().lower()
    assert CitizenFollower.objects.filter(delivery=delivery).exists()  # GET changes nothing

    done = client.post(url)
    assert done.status_code == 200 and b"data-unsubscribed" in done.content
    assert not CitizenFollower.objects.filter(delivery=delivery).exists()
    # The confirmation emails to the address are forgotten with it.
    assert not Notification.objects.filter(event="follow_confirm").exists()
    # The link again: harmless.
    again = client.post(url)
    assert again.status_code == 200 and b"data-unsubscribed" in again.content

    answers.breach_remedy(breach=breach, acting_user=editor_a, text="Sudah diserahkan")
    drain()
    assert len(of_event(smtp, "breach_answered")) == 1
    assert not Notification.objects.filter(event="breach_answered", status="pending").exists()


def test_unsubscribing_before_the_drain_cancels_the_unsent_email(
    client, smtp, breach, delivery, editor_a
):
    follower = follow_confirmed(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
    assert (
        client.post(
            reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
        ).status_code
        == 200
    )
    drain()
    assert smtp.handler.to(CITIZEN) == []


def test_a_follower_gone_between_claim_and_send_is_never_emailed(
    client, smtp, breach, delivery, editor_a
):
    follow_confirmed(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
    CitizenFollower.objects.filter(delivery=delivery).delete()  # the row was already written
    drain()
    assert smtp.handler.to(CITIZEN) == []
    row = Notification.objects.get(event="breach_answered")
    assert row.status == NotificationStatus.FAILED and "no longer follows" in row.last_error


def test_a_forged_unsubscribe_link_is_refused(client, delivery):
    follow(client, delivery)
    follower = CitizenFollower.objects.get(delivery=delivery)
    forged = follower.unsubscribe_token + ":notasignature"
    url = reverse("track:unsubscribe", kwargs={"token": forged})
    assert client.get(url).status_code == 400
    assert client.post(url).status_code == 400
    assert CitizenFollower.objects.filter(delivery=delivery).exists()


# --- Forgetting the unconfirmed --------------------------------------------------------------


def test_the_purge_deletes_only_unconfirmed_followers_older_than_seven_days(client, delivery):
    now = timezone.now()
    emails = ["lama@example.com", "baru@example.com", "terkonfirmasi@example.com"]
    emails.append("diminta-lagi@example.com")
    for email in emails:
        follow(client, delivery, email)
    followers.citizen_follow_confirm(
        follower=CitizenFollower.objects.get(email="terkonfirmasi@example.com")
    )
    eight_days_ago = now - dt.timedelta(days=8)
    CitizenFollower.objects.exclude(email="baru@example.com").update(
        created_at=eight_days_ago, confirmation_sent_at=eight_days_ago
    )
    # Asked again a day ago: the new link is still valid, so the address stays.
    CitizenFollower.objects.filter(email="diminta-lagi@example.com").update(
        confirmation_sent_at=now - dt.timedelta(days=1)
    )
    # Just inside the seven days: kept.
    CitizenFollower.objects.filter(email="baru@example.com").update(
        created_at=now - dt.timedelta(days=6, hours=23),
        confirmation_sent_at=now - dt.timedelta(days=6, hours=23),
    )

    assert followers.citizen_followers_purge_unconfirmed(now=now) == 1
    assert set(CitizenFollower.objects.values_list("email", flat=True)) == {
        "baru@example.com",
        "terkonfirmasi@example.com",
        "diminta-lagi@example.com",
    }
    # The address is forgotten with its confirmation email; the others' stay.
    recipients = Notification.objects.filter(event="follow_confirm").values_list(
        "recipient", flat=True
    )
    assert "lama@example.com" not in set(recipients) and recipients.count() == 3
    # Idempotent.
    assert followers.citizen_followers_purge_unconfirmed(now=now) == 0
    assert CitizenFollower.objects.count() == 3
    # A day later the newer one has aged out too (through the beat task).
    later = now + dt.timedelta(days=1)
    assert followers.citizen_followers_purge_unconfirmed(now=later) == 1
    assert not CitizenFollower.objects.filter(email="baru@example.com").exists()
    assert purge_unconfirmed_followers_task() == 0


def test_the_purge_is_scheduled_daily(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="oversight.purge_unconfirmed_followers")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("3", "30", "*")
