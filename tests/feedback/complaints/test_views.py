"""The public complaint pages: the form per service and per request, the spam guard, the
citizen's status page (answer a question, reopen once), the email confirmation."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.complaints import services
from feedback.complaints.models import Complaint, ComplaintEvidence
from feedback.complaints.notices import COMPLAINT_CONFIRM, COMPLAINT_UPDATE, email_token
from feedback.complaints.states import ComplaintStatus
from feedback.views.complaints_public import started_token
from notifications.models import Notification
from tests.feedback.complaints.conftest import EXE_BYTES, SECRET_EMAIL, jpeg_with_gps

pytestmark = pytest.mark.django_db


def _service_url(service: Any) -> str:
    return reverse("complaints:service", args=[service.agency.slug, service.slug])


def _payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "cost",
        "occurred_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "location": "Loket 3",
        "description": "Diminta uang Rp50.000 di luar tarif.",
        "anonymous": "on",
        "confidential": "on",
        "contact_email": "",
        "started": started_token(time.time() - 60),
    }
    data.update(overrides)
    return data


def _send(client: Client, url: str, **overrides: Any) -> Any:
    client.get(url)  # the form sets the session cookie
    return client.post(url, _payload(**overrides))


def test_service_page_and_tracking_page_link_to_the_form(
    client: Client, service_a: Any, completed: Any
) -> None:
    html = client.get(service_a.get_absolute_url()).content.decode()
    assert _service_url(service_a) in html
    html = client.get(reverse("track:detail", args=[completed.tracking_code])).content.decode()
    assert reverse("complaints:request", args=[completed.tracking_code]) in html


def test_file_a_complaint_with_a_photo_and_get_a_tracking_code(
    client: Client, service_a: Any
) -> None:
    photo = SimpleUploadedFile("IMG_siti.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = _send(client, _service_url(service_a), evidence=photo)
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint = Complaint.objects.get()
    assert response["Location"] == reverse("complaints:status", args=[complaint.tracking_code])
    assert complaint.category == "cost" and complaint.service == service_a
    assert complaint.is_anonymous and complaint.is_confidential
    evidence = ComplaintEvidence.objects.get()
    assert "siti" not in str(evidence.file.name).lower()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert complaint.tracking_code in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"


def test_per_request_form_takes_the_requests_unit_and_date(client: Client, completed: Any) -> None:
    url = reverse("complaints:request", args=[completed.tracking_code])
    html = client.get(url).content.decode()
    assert timezone.localdate(completed.completed_at).isoformat() in html
    response = _send(client, url, category="time")
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.delivery == completed and complaint.unit == completed.unit


def test_thirty_days_passed_says_so_and_names_the_ombudsman(client: Client, service_a: Any) -> None:
    old = (timezone.localdate() - dt.timedelta(days=31)).isoformat()
    response = _send(client, _service_url(service_a), occurred_on=old)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ombudsman" in html and "137" in html and "30 hari" in html
    assert not Complaint.objects.exists()


def test_an_executable_named_jpg_gets_a_field_error(client: Client, service_a: Any) -> None:
    bad = SimpleUploadedFile("foto.jpg", EXE_BYTES, content_type="image/jpeg")
    response = _send(client, _service_url(service_a), evidence=bad)
    assert response.status_code == 400
    assert "id_evidence_error" in response.content.decode()
    assert not Complaint.objects.exists()


def test_missing_fields_get_field_errors_in_indonesian(client: Client, service_a: Any) -> None:
    response = _send(client, _service_url(service_a), category="", description="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "id_description_error" in html and "Pilih" in html


# --- The spam guard ----------------------------------------------------------------------------


def test_honeypot_records_nothing(client: Client, service_a: Any) -> None:
    response = _send(client, _service_url(service_a), website="http://spam.example")
    assert response.status_code == 302
    assert not Complaint.objects.exists()


def test_a_form_sent_too_fast_is_refused_with_a_message(client: Client, service_a: Any) -> None:
    response = _send(client, _service_url(service_a), started=started_token())
    assert response.status_code == 400
    assert not Complaint.objects.exists()
    response = _send(client, _service_url(service_a), started="forged")
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_a_post_without_the_session_cookie_is_refused(client: Client, service_a: Any) -> None:
    response = client.post(_service_url(service_a), _payload())
    assert response.status_code == 400
    assert "cookie" in response.content.decode().lower()
    assert not Complaint.objects.exists()


def test_rate_limit_per_session(client: Client, service_a: Any) -> None:
    url = _service_url(service_a)
    for _ in range(3):
        assert _send(client, url).status_code == 302
    limited = _send(client, url)
    assert limited.status_code == 429
    assert "Terlalu banyak pengaduan" in limited.content.decode()
    assert Complaint.objects.count() == 3


def test_rate_limit_per_address_across_sessions(service_a: Any) -> None:
    url = _service_url(service_a)
    for _ in range(10):
        assert _send(Client(), url).status_code == 302
    assert _send(Client(), url).status_code == 429
    assert Complaint.objects.count() == 10


# --- The status page ---------------------------------------------------------------------------


def test_unknown_or_malformed_codes_are_404(client: Client) -> None:
    assert client.get(reverse("complaints:status", args=["AAAAAAAAAAAA"])).status_code == 404
    assert client.get(reverse("complaints:status", args=["x<y"])).status_code == 404


def test_citizen_sees_the_answer_and_reopens_once(
    client: Client, submit: Any, editor_a: Any
) -> None:
    complaint = submit()
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Pungutan liar.")
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Petugas ditegur.")
    url = reverse("complaints:status", args=[complaint.tracking_code])
    html = client.get(url).content.decode()
    assert "Petugas ditegur." in html
    assert reverse("complaints:reopen", args=[complaint.tracking_code]) in html
    empty = client.post(
        reverse("complaints:reopen", args=[complaint.tracking_code]), {"reason": ""}
    )
    assert empty.status_code == 400
    response = client.post(
        reverse("complaints:reopen", args=[complaint.tracking_code]),
        {"reason": "Masih dimintai uang."},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REOPENED
    html = client.get(url).content.decode()
    assert reverse("complaints:reopen", args=[complaint.tracking_code]) not in html
    again = client.post(
        reverse("complaints:reopen", args=[complaint.tracking_code]), {"reason": "Lagi."}
    )
    assert again.status_code == 400


def test_citizen_answers_the_handlers_question(client: Client, submit: Any, editor_a: Any) -> None:
    complaint = submit()
    services.complaint_ask_info(complaint=complaint, actor=editor_a, question="Loket berapa?")
    html = client.get(reverse("complaints:status", args=[complaint.tracking_code])).content.decode()
    assert "Loket berapa?" in html
    response = client.post(
        reverse("complaints:add_info", args=[complaint.tracking_code]), {"text": "Loket 3."}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


def test_citizen_asks_for_the_ombudsman(client: Client, submit: Any, editor_a: Any) -> None:
    complaint = submit()
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="x")
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="y")
    services.complaint_close(complaint=complaint, actor=editor_a)
    response = client.post(reverse("complaints:ask_ombudsman", args=[complaint.tracking_code]))
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.ombudsman_requested_at is not None


# --- Email: double opt-in ----------------------------------------------------------------------


def test_updates_are_emailed_only_after_the_address_is_confirmed(
    client: Client, submit: Any, editor_a: Any
) -> None:
    complaint = submit()
    assert Notification.objects.filter(event=COMPLAINT_CONFIRM, recipient=SECRET_EMAIL).count() == 1
    services.complaint_verify(complaint=complaint, actor=editor_a)
    assert not Notification.objects.filter(event=COMPLAINT_UPDATE).exists()
    token = email_token(complaint, SECRET_EMAIL)
    assert client.get(reverse("complaints:confirm", args=[token])).status_code == 200
    complaint.refresh_from_db()
    assert complaint.email_confirmed_at is None  # a GET (a mail scanner) confirms nothing
    assert client.post(reverse("complaints:confirm", args=[token])).status_code == 302
    complaint.refresh_from_db()
    assert complaint.email_confirmed_at is not None
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Teks.")
    assert Notification.objects.filter(event=COMPLAINT_UPDATE, recipient=SECRET_EMAIL).count() == 1
    assert client.get(reverse("complaints:confirm", args=["bad-token"])).status_code == 404
    # Forget: no more emails.
    assert client.post(reverse("complaints:forget", args=[token])).status_code == 200
    complaint.refresh_from_db()
    assert complaint.contact_email == ""


def test_a_service_without_a_published_standard_has_no_public_complaint_pages(
    client: Client, draft_a: Any, service_a: Any
) -> None:
    """A draft-only service is not public: its name must not leak through the complaint
    form or its figures, as its service page answers 404 too."""
    draft = draft_a.service
    for name in ("complaints:service", "complaints:service_figures"):
        assert client.get(reverse(name, args=[draft.agency.slug, draft.slug])).status_code == 404
        published = reverse(name, args=[service_a.agency.slug, service_a.slug])
        assert client.get(published).status_code == 200
    assert client.post(_service_url(draft), _payload()).status_code == 404
    assert not Complaint.objects.exists()
