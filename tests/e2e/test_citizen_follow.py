"""The citizen's journey in a real browser, in Indonesian: follow a late request from its
public tracking page, confirm the address by the link in a real email (double opt-in),
receive the unit's answer by a real email, and stop the emails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Notification
from notifications.outbox import drain
from oversight.answers import breach_explain, breach_remedy
from oversight.models import CitizenFollower
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach

pytestmark = pytest.mark.e2e

service = notifications_conftest.service
smtp = notifications_conftest.smtp

CITIZEN = "warga.pelapor@example.com"
EXPLANATION = "Printer di loket rusak selama seminggu; akta terbit terlambat."
REMEDY = "Akta sudah diantar ke rumah pemohon tanpa biaya."


@pytest.fixture(autouse=True)
def _fresh_rate_limits(transactional_db) -> Iterator[None]:
    # The follow form is rate-limited per client address in the shared cache.
    cache.clear()
    yield
    cache.clear()


def indonesian(msgid: str) -> str:
    """The Indonesian text of a UI string; fails if it has no translation (the citizen
    would read English)."""
    with translation.override("id"):
        text = gettext(msgid)
    assert text != msgid, f"No Indonesian translation for {msgid!r}"
    return text


def blocking_violations(page) -> list[dict]:
    return [v for v in _violations(page) if v["impact"] in BLOCKING]


def parts(message: Message) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def of_event(smtp, event: str) -> list[Message]:
    return [
        m
        for m in smtp.handler.to(CITIZEN)
        # (a long header is folded on the wire)
        if "".join(str(m["X-Maklumat-Notification"]).split()).startswith(f"{event}:")
    ]


def test_a_citizen_follows_a_late_request_hears_the_answer_and_stops_the_emails(
    page, live_server, settings, smtp, service, editor_a
):
    settings.SITE_URL = live_server.url  # the links in the email lead to this server
    breach = late_breach(service, "AGENCY-REF-0077")
    delivery = breach.delivery
    assert delivery is not None
    drain()  # the unit's own new-breach emails go out first
    assert smtp.handler.to(CITIZEN) == []
    track_path = f"/track/{delivery.tracking_code}/"

    # The citizen opens the tracking page of their request, in Indonesian.
    response = page.goto(track_path)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"{indonesian('Your request')}: {service.name}"
    )
    assert page.locator(".notice .badge-bad").inner_text() == indonesian("late")
    follow = page.locator("#follow")
    assert follow.get_by_role("heading", level=2).inner_text() == indonesian(
        "Tell me by e-mail when this request is answered or a breach is answered"
    )
    assert blocking_violations(page) == []

    # They leave their address and submit: the page asks them to check their email and
    # never shows the address.
    follow.get_by_label(indonesian("Your email address")).fill(CITIZEN)
    follow.get_by_role("button", name=indonesian("Tell me by e-mail")).click()
    page.wait_for_url(f"**{track_path}#follow")
    assert page.locator(".messages").inner_text() == indonesian(
        "Thank you. Check your email to confirm your address: only then will we email "
        "you when the office answers about this request."
    )
    assert page.get_by_label(indonesian("Your email address")).input_value() == ""
    assert "warga.pelapor" not in page.content().lower()
    follower = CitizenFollower.objects.get(delivery=delivery, email=CITIZEN)
    assert follower.confirmed_at is None
    assert blocking_violations(page) == []

    # An answer now would not reach them: the address is not confirmed yet.
    assert not Notification.objects.filter(event="breach_answered").exists()

    # The confirmation email arrives at the real SMTP server, in Indonesian.
    drain()
    (confirmation,) = smtp.handler.to(CITIZEN)
    assert confirmation["Content-Language"] == "id"
    with translation.override("id"):
        subject = gettext("Confirm your email address for your request: %(service)s") % {
            "service": service.name
        }
    assert confirmation["Subject"] == subject
    body = parts(confirmation)
    text, html = body["text/plain"], body["text/html"]
    confirm = re.search(rf"{re.escape(live_server.url)}/track/confirm/\S+/", text)
    assert confirm is not None, text
    confirm_url = confirm.group(0)
    assert f'href="{confirm_url}"' in html
    assert "/staff/" not in text and "/staff/" not in html
    assert delivery.tracking_code not in text and delivery.reference not in text

    # The link asks first: opening it changes nothing.
    response = page.goto(confirm_url)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == indonesian(
        "Confirm your email address"
    )
    assert service.name in page.locator("main form").inner_text()
    follower.refresh_from_db()
    assert follower.confirmed_at is None
    assert blocking_violations(page) == []

    # The button confirms.
    page.get_by_role("button", name=indonesian("Confirm my email address"), exact=True).click()
    confirmed = page.locator("[data-confirmed]")
    confirmed.wait_for()
    assert service.name in confirmed.inner_text()
    follower.refresh_from_db()
    assert follower.confirmed_at is not None
    assert blocking_violations(page) == []

    # A mangled link says so, accessibly.
    mangled = "A" if confirm_url[-2] != "A" else "B"  # always differs from the real last char
    response = page.goto(confirm_url[:-2] + mangled + "/")
    assert response is not None and response.status == 400
    assert page.locator("[data-link-invalid]").inner_text() == indonesian(
        "This link is not valid. Check that it was copied completely."
    )
    assert blocking_violations(page) == []

    # The unit explains the breach; the drainer sends the citizen exactly one email.
    breach_explain(breach=breach, acting_user=editor_a, text=EXPLANATION)
    drain()
    received = of_event(smtp, "breach_answered")
    assert len(received) == 1
    assert len(smtp.handler.to(CITIZEN)) == 2  # the confirmation, then the answer
    message = received[0]
    assert message["Content-Language"] == "id"
    with translation.override("id"):
        subject = gettext("The office answered about your request: %(service)s") % {
            "service": service.name
        }
    assert message["Subject"] == subject
    body = parts(message)
    text, html = body["text/plain"], body["text/html"]
    assert indonesian("The office explained why its published promise was not kept:") in text
    assert EXPLANATION in text and EXPLANATION in html
    assert f"{live_server.url}{track_path}" in text
    assert f'href="{live_server.url}{track_path}"' in html
    unsubscribe = re.search(rf"{re.escape(live_server.url)}/track/unsubscribe/\S+/", text)
    assert unsubscribe is not None, text
    unsubscribe_url = unsubscribe.group(0)
    assert f'href="{unsubscribe_url}"' in html
    # (a long header is folded on the wire)
    assert "".join(message["List-Unsubscribe"].split()) == f"<{unsubscribe_url}>"
    assert "/staff/" not in text and "/staff/" not in html

    # The link asks first: opening it changes nothing.
    response = page.goto(unsubscribe_url)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == indonesian(
        "Stop the e-mails about a request"
    )
    assert service.name in page.locator("main form").inner_text()
    assert page.locator("[data-unsubscribed]").count() == 0
    assert CitizenFollower.objects.filter(delivery=delivery).exists()
    assert blocking_violations(page) == []

    # The button stops the emails and forgets the address.
    page.get_by_role("button", name=indonesian("Stop the e-mails"), exact=True).click()
    done = page.locator("[data-unsubscribed]")
    done.wait_for()
    assert done.inner_text() == indonesian(
        "Done: you will receive no more e-mails about this request, and your address has "
        "been deleted."
    )
    assert not CitizenFollower.objects.filter(delivery=delivery).exists()
    assert blocking_violations(page) == []

    # A later answer writes nothing for them, and nothing more reaches them.
    breach_remedy(breach=breach, acting_user=editor_a, text=REMEDY)
    assert Notification.objects.filter(event="breach_answered", recipient=CITIZEN).count() == 1
    drain()
    assert len(of_event(smtp, "breach_answered")) == 1
    assert len(smtp.handler.to(CITIZEN)) == 2
