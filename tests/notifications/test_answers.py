"""The unit's answer: the one-click email link, the staff page, permissions, audit."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.outbox import drain
from oversight.escalation import escalate
from oversight.models import Breach, BreachEscalation, BreachEvent, BreachStatus
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications.conftest import late_breach

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _link_from_email(to: str) -> str:
    message = next(m for m in mail.outbox if m.to == [to])
    match = re.search(
        r"https?://[^/\s]+(/(?:en/)?staff/breaches/acknowledge/\S+/)", str(message.body)
    )
    assert match, message.body
    return match.group(1)


@pytest.fixture
def breach(service):
    breach = late_breach(service)
    drain()
    return breach


def _events(breach):
    return list(BreachEvent.objects.filter(breach=breach).values_list("kind", flat=True))


def test_the_email_link_acknowledges_on_post_only(client, breach):
    url = _link_from_email("layanan@unit-a.go.id")
    page = client.get(url)
    assert page.status_code == 200
    assert b'<form method="post"' in page.content
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN and _events(breach) == []  # GET changes nothing

    done = client.post(url)
    assert done.status_code == 200 and b"data-acknowledged" in done.content
    breach.refresh_from_db()
    assert breach.status == BreachStatus.ACKNOWLEDGED
    event = BreachEvent.objects.get(breach=breach)
    assert (event.kind, event.via, event.by_email, event.actor) == (
        "acknowledged",
        "link",
        "layanan@unit-a.go.id",
        None,
    )
    # A second click (or the other contact's link) is harmless.
    assert client.post(_link_from_email("pengaduan@unit-a.go.id")).status_code == 200
    assert _events(breach) == ["acknowledged"]
    # Acknowledged: the ladder never fires, however long it waits.
    assert escalate(now=wib(2026, 6, 1)) == {1: 0, 2: 0, 3: 0}
    assert BreachEscalation.objects.get(breach=breach).level == 0


def test_a_tampered_or_expired_link_is_a_clear_error(client, breach, settings):
    url = _link_from_email("layanan@unit-a.go.id")
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.get(tampered)
    assert response.status_code == 400
    assert client.post(tampered).status_code == 400
    assert client.get(reverse("breach_answers:ack", kwargs={"token": "garbage"})).status_code == 400

    settings.NOTIFICATIONS = {"ACK_LINK_MAX_AGE_SECONDS": -1}
    expired = client.post(url)
    assert expired.status_code == 410
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN and _events(breach) == []


def test_the_link_of_a_closed_breach_does_not_acknowledge(client, breach):
    Breach.objects.filter(pk=breach.pk).update(status=BreachStatus.RESOLVED)
    response = client.post(_link_from_email("layanan@unit-a.go.id"))
    assert response.status_code == 400
    assert _events(breach) == []


def test_editor_answers_explains_with_a_pdf_and_records_the_remedy(
    client, breach, editor_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor_a)
    detail = reverse("breach_answers:detail", kwargs={"pk": breach.pk})
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    assert client.get(detail).status_code == 200

    assert client.post(answer, {"action": "acknowledge"}).status_code == 302
    breach.refresh_from_db()
    assert breach.status == BreachStatus.ACKNOWLEDGED

    fake = SimpleUploadedFile("alasan.pdf", b"MZ not a pdf", content_type="application/pdf")
    refused = client.post(answer, {"action": "explain", "text": "Server down", "attachment": fake})
    assert refused.status_code == 400 and b"PDF, PNG or JPEG" in refused.content
    assert client.post(answer, {"action": "explain", "text": "  "}).status_code == 400
    breach.refresh_from_db()
    assert breach.status == BreachStatus.ACKNOWLEDGED

    pdf = SimpleUploadedFile("alasan.pdf", PDF, content_type="application/pdf")
    ok = client.post(
        answer, {"action": "explain", "text": "Server SIAK mati 3 hari", "attachment": pdf}
    )
    assert ok.status_code == 302
    client.post(answer, {"action": "remedy", "text": "KTP-el diserahkan 21 Jan"})
    breach.refresh_from_db()
    assert breach.status == BreachStatus.REMEDIED
    events = list(BreachEvent.objects.filter(breach=breach))
    assert [e.kind for e in events] == ["acknowledged", "explained", "remedied"]
    assert all(e.actor == editor_a and e.via == "staff" for e in events)
    assert events[1].attachment.read().startswith(b"%PDF-")
    page = client.get(detail)
    assert b"Server SIAK mati 3 hari" in page.content


def test_outsiders_get_404_and_anonymous_the_login(client, breach, editor_b):
    detail = reverse("breach_answers:detail", kwargs={"pk": breach.pk})
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    assert client.get(detail).status_code == 302
    client.force_login(editor_b)
    assert client.get(detail).status_code == 404
    assert client.post(answer, {"action": "acknowledge"}).status_code == 404
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN


def test_ombudsman_sees_and_decides_but_cannot_answer_for_the_unit(client, breach, ombudsman):
    login_verified(client, ombudsman)
    detail = reverse("breach_answers:detail", kwargs={"pk": breach.pk})
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    page = client.get(detail)
    assert page.status_code == 200
    assert answer.encode() not in page.content  # no answer form for the ombudsman
    assert reverse("breach_answers:decide", kwargs={"pk": breach.pk}).encode() in page.content
    assert client.post(answer, {"action": "acknowledge"}).status_code == 403
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN

    decide = reverse("breach_answers:decide", kwargs={"pk": breach.pk})
    assert client.post(decide, {"decision": "confirmed", "category": ""}).status_code == 400
    assert (
        client.post(decide, {"decision": "confirmed", "category": "undue_delay"}).status_code == 302
    )
    breach.refresh_from_db()
    assert (breach.status, breach.decided_category) == ("confirmed", "undue_delay")
    assert _events(breach) == ["decided"]


def test_editors_cannot_decide_and_have_no_queue(client, breach, editor_a):
    client.force_login(editor_a)
    decide = reverse("breach_answers:decide", kwargs={"pk": breach.pk})
    assert client.post(decide, {"decision": "dismissed"}).status_code == 403
    assert client.get(reverse("breach_answers:queue")).status_code == 403


def test_a_dispute_goes_to_the_ombudsman_queue(client, breach, approver_a, ombudsman):
    client.force_login(approver_a)
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    client.post(answer, {"action": "dispute", "text": "Pemohon minta ditunda"})
    assert BreachEscalation.objects.get(breach=breach).disputed_at is not None
    assert client.post(answer, {"action": "dispute", "text": "again"}).status_code == 400
    client.logout()
    login_verified(client, ombudsman)
    queue = client.get(reverse("breach_answers:queue"))
    assert queue.status_code == 200 and f'data-breach="{breach.pk}"'.encode() in queue.content


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """These tests read the English source messages (URLs reversed here carry /en/)."""
    from django.utils import translation

    with translation.override("en"):
        yield
