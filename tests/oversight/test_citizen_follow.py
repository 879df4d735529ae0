"""The citizen concerned follows their request from the public tracking page and is told,
by a real email through a real SMTP server, when the unit answers a breach about it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import Message

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from charter.services import charter_draft_create, charter_publish
from notifications.models import Notification, NotificationStatus
from notifications.services import drain, idempotency_key
from oversight import answers
from oversight.models import BreachEvent, CitizenFollower
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


def parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def unsubscribe_path(message: Message) -> str:
    match = re.search(
        r"https?://[^/\s]+(/\S*?track/unsubscribe/\S+/)", parts(message)["text/plain"]
    )
    assert match, parts(message)["text/plain"]
    return match.group(1)


# --- Following ------------------------------------------------------------------------------


def test_the_tracking_page_offers_to_follow_and_never_shows_the_address(client, delivery):
    page = client.get(track_url(delivery))
    assert page.status_code == 200
    assert b'id="follow"' in page.content and b'name="email"' in page.content
    assert b"csrfmiddlewaretoken" in page.content

    done = follow(client, delivery)
    assert done.status_code == 302
    assert done["Location"].endswith(track_url(delivery) + "#follow")
    follower = CitizenFollower.objects.get(delivery=delivery)
    assert follower.email == CITIZEN

    for response in (client.get(done["Location"]), client.get(track_url(delivery))):
        assert response.status_code == 200
        body = response.content.decode().lower()
        assert CITIZEN.lower() not in body and "warga.pelapor" not in body

    # Following again (any case) keeps one row; another browser sees nothing of it either.
    assert follow(client, delivery, CITIZEN.upper()).status_code == 302
    assert CitizenFollower.objects.filter(delivery=delivery).count() == 1
    other = client.__class__()
    assert "warga.pelapor" not in other.get(track_url(delivery)).content.decode().lower()


def test_a_bad_address_is_a_field_error(client, delivery):
    with translation.override("en"):
        url = reverse("track:follow", kwargs={"code": delivery.tracking_code})
    response = client.post(url, {"email": "not an address"})
    assert response.status_code == 400
    assert b'id="id_email_error"' in response.content
    assert b"valid email address" in response.content
    assert not CitizenFollower.objects.exists()


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


def test_staff_see_only_how_many_follow(client, breach, delivery, editor_a):
    follow(client, delivery)
    client.force_login(editor_a)
    page = client.get(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
    assert page.status_code == 200
    assert b'data-followers="1"' in page.content
    assert "warga.pelapor" not in page.content.decode().lower()


# --- Told of the answer ---------------------------------------------------------------------


def test_the_follower_gets_exactly_one_email_after_the_unit_explains(
    client, smtp, breach, delivery, editor_a
):
    drain()  # the unit's own new-breach emails
    follow(client, delivery)
    client.force_login(editor_a)
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    assert (
        client.post(answer, {"action": "explain", "text": "Server SIAK mati 3 hari"}).status_code
        == 302
    )

    event = BreachEvent.objects.get(breach=breach, kind="explained")
    row = Notification.objects.get(event="breach_answered")
    assert (row.channel, row.recipient, row.breach_id, row.unit_id, row.level, row.status) == (
        "email",
        CITIZEN,
        breach.pk,
        breach.unit_id,
        0,
        NotificationStatus.PENDING,
    )
    assert row.idempotency_key == idempotency_key(
        event="breach_answered",
        subject=f"breach:{breach.pk}:event:{event.pk}",
        recipient=CITIZEN,
        channel="email",
        level=0,
    )

    drain()
    drain()
    received = smtp.handler.to(CITIZEN)
    assert len(received) == 1
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


def test_remedy_dispute_and_compensation_each_tell_the_follower(
    client, service, unit_a, breach, delivery, editor_a
):
    follow(client, delivery)
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
    assert {r.idempotency_key.split(":")[4] for r in rows} == {str(e.pk) for e in events}


def test_the_compensation_email_says_what_was_paid(
    client, smtp, service, unit_a, breach, delivery, editor_a
):
    follow(client, delivery)
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
    (message,) = smtp.handler.to(CITIZEN)
    text = parts(message)["text/plain"]
    assert "Rp 100.000" in text and "25 Januari 2026" in text


def test_a_rolled_back_answer_writes_nothing(client, breach, delivery, editor_a):
    follow(client, delivery)
    with pytest.raises(RuntimeError), transaction.atomic():
        answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
        raise RuntimeError("boom")
    assert not Notification.objects.filter(event="breach_answered").exists()
    assert not BreachEvent.objects.filter(breach=breach).exists()


# --- Unsubscribing ---------------------------------------------------------------------------


def test_unsubscribe_asks_on_get_and_forgets_on_post(client, smtp, breach, delivery, editor_a):
    follow(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan pertama")
    drain()
    (message,) = smtp.handler.to(CITIZEN)
    url = unsubscribe_path(message)

    page = client.get(url)
    assert page.status_code == 200
    assert b'<form method="post"' in page.content
    assert "warga.pelapor" not in page.content.decode().lower()
    assert CitizenFollower.objects.filter(delivery=delivery).exists()  # GET changes nothing

    done = client.post(url)
    assert done.status_code == 200 and b"data-unsubscribed" in done.content
    assert not CitizenFollower.objects.filter(delivery=delivery).exists()
    # The link again: harmless.
    again = client.post(url)
    assert again.status_code == 200 and b"data-unsubscribed" in again.content

    answers.breach_remedy(breach=breach, acting_user=editor_a, text="Sudah diserahkan")
    drain()
    assert len(smtp.handler.to(CITIZEN)) == 1
    assert not Notification.objects.filter(event="breach_answered", status="pending").exists()


def test_unsubscribing_before_the_drain_cancels_the_unsent_email(
    client, smtp, breach, delivery, editor_a
):
    follow(client, delivery)
    answers.breach_explain(breach=breach, acting_user=editor_a, text="Alasan")
    follower = CitizenFollower.objects.get(delivery=delivery)
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
    follow(client, delivery)
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
