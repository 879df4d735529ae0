"""Anonymity and confidentiality through every path of the agency, and who may do what.

The complainant's identity (name, email, phone) must not reach the agency's pages (the
complaint pages, the breach pages, the dashboard, the inbox), its emails (every message the
outbox renders for staff), its webhooks, nor its API, when either privacy choice is made.
The ombudsman reads it; the original text too, once moderated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from delivery.services import delivery_record
from feedback.complaints import services
from feedback.complaints.models import Complaint, ComplaintEvidence
from notifications import registry
from notifications.models import Notification
from oversight.models import Breach
from oversight.notices import breach_webhook_payload
from oversight.sweep import sweep
from tests import factories
from tests.accounts.conftest import login_verified
from tests.feedback.complaints.conftest import (
    PDF_BYTES,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_PHONE,
    jpeg_with_gps,
    upload,
)

pytestmark = pytest.mark.django_db

SECRETS = (SECRET_NAME, SECRET_EMAIL, SECRET_PHONE, "siti.rahma")
ORIGINAL = "petugas Budi membentak saya"


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.fixture
def unit_editor(unit_a: Any) -> Any:
    user = factories.UserFactory(username="unit_editor_a")
    factories.MembershipFactory(user=user, agency=unit_a.agency, unit=unit_a, role=Role.EDITOR)
    return user


@pytest.fixture
def late_request(service_a: Any) -> Any:
    now = timezone.now()
    delivery, _ = delivery_record(
        service=service_a,
        reference="LATE-1",
        submitted_at=now - dt.timedelta(days=25),
        completed_at=now - dt.timedelta(days=2),
    )
    return delivery


def _world(submit: Any, editor_a: Any, late_request: Any, **choices: Any) -> Complaint:
    """A complaint about a late request, with a photo and a PDF, verified (linked to the
    request's breach), forwarded, answered, reopened; past its limits so that the sweep
    made an unanswered-complaint breach; staff emails queued at each step."""
    past = timezone.now() - dt.timedelta(days=20)
    complaint = submit(
        delivery=late_request,
        occurred_on=timezone.localdate(past) - dt.timedelta(days=1),
        files=[upload(jpeg_with_gps()), upload(PDF_BYTES)],
        now=past,
        **choices,
    )
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(
        complaint=complaint, actor=editor_a, public_text="Antrean tiga jam, petugas membentak."
    )
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Kami tegur petugas.")
    services.complaint_reopen(complaint=complaint, reason="Masih sama.")
    sweep()
    complaint.refresh_from_db()
    return complaint


def _staff_pages(complaint: Complaint) -> list[str]:
    breach_ids = list(
        Breach.objects.filter(agency_id=complaint.agency_id).values_list("pk", flat=True)
    )
    return [
        reverse("complaint_staff:list"),
        reverse("complaint_staff:detail", args=[complaint.pk]),
        reverse("oversight:breaches"),
        reverse("staff:dashboard"),
        *(reverse("breach_answers:detail", args=[pk]) for pk in breach_ids),
    ]


@pytest.mark.parametrize(
    "choices",
    [
        {"anonymous": True, "confidential": True},
        {"anonymous": True, "confidential": False},
        {"anonymous": False, "confidential": True},
    ],
    ids=["both", "anonymous", "confidential"],
)
def test_identity_never_reaches_the_agency(
    choices: dict[str, bool],
    submit: Any,
    editor_a: Any,
    admin_a: Any,
    approver_a: Any,
    unit_editor: Any,
    late_request: Any,
) -> None:
    complaint = _world(submit, editor_a, late_request, **choices)
    assert Breach.objects.filter(kind="unanswered_complaint", subject_id=complaint.pk).exists()
    # Pages, as every kind of agency staff.
    for user in (editor_a, admin_a, approver_a, unit_editor):
        client = Client()
        login_verified(client, user)
        for url in _staff_pages(complaint):
            response = client.get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            _clean(response.content.decode())
        # The API of the agency: no operation reads a complaint or a request's complainants
        # (deliveries are written in bulk only); the only complaint paths are the public
        # statistics (counts, clean), and what it reads of the unit is clean.
        schema = client.get("/api/v1/schema/", {"format": "json"})
        assert schema.status_code == 200
        assert sorted(path for path in schema.json()["paths"] if "complaint" in path) == [
            "/api/v1/services/{id}/complaints/",
            "/api/v1/units/{id}/complaints/",
        ]
        service = late_request.service
        for path in (
            f"/api/v1/services/{service.pk}/complaints/",
            f"/api/v1/units/{service.unit_id}/complaints/",
        ):
            statistics = client.get(path)
            assert statistics.status_code == 200 and statistics.json()["received"] >= 1
            _clean(statistics.content.decode())
        unit = client.get(f"/api/v1/units/{late_request.service.unit_id}/")
        assert unit.status_code == 200
        _clean(unit.content.decode())
    # Emails and webhooks: every message the outbox holds for staff.
    rows = Notification.objects.exclude(recipient=SECRET_EMAIL)
    assert rows.filter(event__startswith="complaint_").count() >= 3
    assert rows.filter(event="breach_created").exists()
    for row in rows:
        found = registry.message_type(row.event)
        assert found is not None and not found.personal_recipient
        email = found.render_email(row, "id")
        _clean(email.subject + email.text + email.html)
        if row.event == "breach_created":
            _clean(str(breach_webhook_payload(row)))


def test_without_either_choice_the_handlers_see_who_complained(
    submit: Any, editor_a: Any, late_request: Any
) -> None:
    complaint = _world(submit, editor_a, late_request, anonymous=False, confidential=False)
    client = Client()
    client.force_login(editor_a)
    html = client.get(reverse("complaint_staff:detail", args=[complaint.pk])).content.decode()
    assert SECRET_NAME in html and SECRET_EMAIL in html


def test_the_ombudsman_sees_identity_and_original(
    submit: Any, editor_a: Any, ombudsman: Any, late_request: Any
) -> None:
    complaint = _world(submit, editor_a, late_request)
    client = Client()
    login_verified(client, ombudsman)
    response = client.get(reverse("complaint_staff:detail", args=[complaint.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET_NAME in html and SECRET_EMAIL in html
    assert ORIGINAL in html and "Antrean tiga jam, petugas membentak." in html


def test_after_moderation_handlers_and_unit_read_only_the_moderated_text(
    submit: Any, editor_a: Any, unit_editor: Any, late_request: Any
) -> None:
    complaint = _world(submit, editor_a, late_request)
    services.complaint_moderate_reopen(
        complaint=complaint, actor=editor_a, public_text="Masih sama (disunting)."
    )
    for user in (editor_a, unit_editor):
        client = Client()
        client.force_login(user)
        html = client.get(reverse("complaint_staff:detail", args=[complaint.pk])).content.decode()
        assert "Antrean tiga jam, petugas membentak." in html
        assert ORIGINAL not in html
        # The unit sees why it was reopened, as the handlers moderated it.
        assert "Masih sama (disunting)." in html
        assert "Masih sama.<" not in html and ": Masih sama.</li>" not in html


def test_unmoderated_text_is_never_public(client: Client, submit: Any, service_a: Any) -> None:
    complaint = submit(confidential=False)
    for url in (
        reverse("complaints:service_figures", args=[service_a.agency.slug, service_a.slug]),
        reverse("complaints:unit_figures", args=[service_a.agency.slug, service_a.unit.slug]),
        service_a.get_absolute_url(),
    ):
        html = client.get(url).content.decode()
        assert ORIGINAL not in html
    assert complaint.may_be_public is False


def test_moderated_text_is_public_only_if_the_complainant_agreed(
    client: Client, submit: Any, editor_a: Any, service_a: Any
) -> None:
    agreed = submit(confidential=False)
    secret = submit(confidential=True)
    for complaint, text in ((agreed, "Dimintai uang tambahan."), (secret, "Rahasia sekali.")):
        services.complaint_verify(complaint=complaint, actor=editor_a)
        services.complaint_forward(complaint=complaint, actor=editor_a, public_text=text)
    html = client.get(
        reverse("complaints:service_figures", args=[service_a.agency.slug, service_a.slug])
    ).content.decode()
    assert "Dimintai uang tambahan." in html
    assert "Rahasia sekali." not in html
    _clean(html)
    assert ORIGINAL not in html


# --- Permission matrix -------------------------------------------------------------------------


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


@pytest.mark.parametrize(
    ("who", "detail", "verify", "evidence"),
    [
        ("admin_a", 200, 302, 200),
        ("editor_a", 200, 302, 200),
        ("admin_b", 404, 404, 404),
        ("editor_b", 404, 404, 404),
        ("ombudsman", 200, 403, 200),
        ("anonymous", 302, 302, 302),
    ],
)
def test_permission_matrix(
    who: str,
    detail: int,
    verify: int,
    evidence: int,
    submit: Any,
    request: Any,
) -> None:
    user = None if who == "anonymous" else request.getfixturevalue(who)
    complaint = submit(files=[upload(jpeg_with_gps())])
    client = _client(user)
    assert client.get(reverse("complaint_staff:detail", args=[complaint.pk])).status_code == detail
    photo = ComplaintEvidence.objects.get(complaint=complaint)
    response = client.get(reverse("complaint_staff:evidence", args=[photo.pk]))
    assert response.status_code == evidence
    if evidence == 200:
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body.startswith(b"\xff\xd8") and b"Siti" not in body
        assert response["X-Content-Type-Options"] == "nosniff"
    response = client.post(reverse("complaint_staff:verify", args=[complaint.pk]))
    assert response.status_code == verify
    complaint.refresh_from_db()
    assert (complaint.status == "verified") == (verify == 302 and who != "anonymous")


def test_unit_staff_see_only_forwarded_complaints_of_their_unit_and_no_evidence(
    submit: Any, editor_a: Any, unit_editor: Any
) -> None:
    complaint = submit(files=[upload(PDF_BYTES)])
    client = _client(unit_editor)
    detail = reverse("complaint_staff:detail", args=[complaint.pk])
    assert client.get(detail).status_code == 404
    assert (
        str(complaint.tracking_code)
        not in client.get(reverse("complaint_staff:list")).content.decode()
    )
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Teks.")
    assert client.get(detail).status_code == 200
    pdf = ComplaintEvidence.objects.get(complaint=complaint)
    assert client.get(reverse("complaint_staff:evidence", args=[pdf.pk])).status_code == 403
    # The unit answers; it may not close or route.
    assert client.post(reverse("complaint_staff:close", args=[complaint.pk])).status_code in (
        400,
        403,
    )
    response = client.post(
        reverse("complaint_staff:answer", args=[complaint.pk]), {"answer": "Sudah ditindak."}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "answered"


def test_the_pdf_is_served_as_an_attachment_to_handlers(submit: Any, editor_a: Any) -> None:
    complaint = submit(files=[upload(PDF_BYTES)])
    pdf = ComplaintEvidence.objects.get(complaint=complaint)
    response = _client(editor_a).get(reverse("complaint_staff:evidence", args=[pdf.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")


def test_identity_and_original_never_reach_the_exports_or_the_requests_pages(
    submit: Any, editor_a: Any, late_request: Any
) -> None:
    """The exports (every open-data dataset, the compliance scores) and the staff pages of
    the request complained about carry neither the identity nor the unmoderated text."""
    from opendata.exports import DATASETS

    complaint = _world(submit, editor_a, late_request, anonymous=False, confidential=True)
    assert complaint.delivery_id == late_request.pk
    public = Client()
    urls = [
        reverse("opendata:dataset", kwargs={"key": key, "extension": "csv"}) for key in DATASETS
    ]
    urls += [reverse("compliance_public:scores_csv")]
    for url in urls:
        response = public.get(url)
        assert response.status_code == 200, url
        chunks = response.streaming_content if response.streaming else [response.content]  # type: ignore[attr-defined]
        body = b"".join(chunks).decode()
        _clean(body)
        assert ORIGINAL not in body and "Masih sama." not in body
    staff = Client()
    login_verified(staff, editor_a)
    for url in (
        reverse("deliveries:list"),
        reverse("deliveries:detail", args=[late_request.pk]),
        reverse("track:detail", kwargs={"code": late_request.tracking_code}),
    ):
        response = staff.get(url)
        assert response.status_code == 200, url
        _clean(response.content.decode())
