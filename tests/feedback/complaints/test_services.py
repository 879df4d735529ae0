"""Complaint writes: the 30-day window, evidence, the transitions table, routing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from core.errors import ApplicationError, PermissionDeniedError
from delivery.services import delivery_record
from feedback.complaints import services
from feedback.complaints.evidence import MAX_FILE_BYTES
from feedback.complaints.models import Complaint, ComplaintEvent, ComplaintEvidence
from feedback.complaints.states import TRANSITIONS, ComplaintStatus
from tests.feedback.complaints.conftest import (
    EXE_BYTES,
    PDF_BYTES,
    jpeg_with_gps,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


def test_submit_receives_with_a_code_and_a_verification_limit(submit: Any, service_a: Any) -> None:
    complaint = submit()
    assert complaint.status == ComplaintStatus.RECEIVED
    assert len(complaint.tracking_code) == 12
    assert (complaint.agency_id, complaint.unit_id) == (service_a.agency_id, service_a.unit_id)
    # 3 working days on the unit's (national) calendar, the day of receipt not counted.
    assert complaint.verify_due_at is not None
    assert complaint.verify_due_at > complaint.received_at + dt.timedelta(days=3)
    assert complaint.verify_due_at <= complaint.received_at + dt.timedelta(days=10)
    assert complaint.resolve_due_at == complaint.received_at + dt.timedelta(days=60)
    assert complaint.is_anonymous and complaint.is_confidential
    assert list(complaint.events.values_list("action", flat=True)) == ["submit"]


def test_privacy_is_the_default(service_a: Any) -> None:
    complaint = services.complaint_submit(
        category="other",
        occurred_on=timezone.localdate(),
        description="x",
        service=service_a,
    )
    assert complaint.is_anonymous and complaint.is_confidential and complaint.is_private


# --- The 30-day window (UU 25/2009 Pasal 40) -------------------------------------------------


def test_thirty_days_after_the_service_is_still_in_time(submit: Any) -> None:
    complaint = submit(occurred_on=timezone.localdate() - dt.timedelta(days=30))
    assert complaint.pk


def test_thirty_one_days_is_too_late_and_names_the_ombudsman(submit: Any) -> None:
    with pytest.raises(ApplicationError) as exc:
        submit(occurred_on=timezone.localdate() - dt.timedelta(days=31))
    assert exc.value.code == "too_late"
    assert exc.value.field == "occurred_on"
    assert "Ombudsman" in exc.value.message and "137" in exc.value.message
    assert not Complaint.objects.exists()


def test_the_window_counts_from_a_completed_requests_completion(
    service_a: Any, submit: Any
) -> None:
    now = timezone.now()
    delivery, _ = delivery_record(
        service=service_a,
        reference="OLD-1",
        submitted_at=now - dt.timedelta(days=45),
        completed_at=now - dt.timedelta(days=40),
    )
    # The citizen's date is recent, but the service was received 40 days ago.
    with pytest.raises(ApplicationError) as exc:
        submit(delivery=delivery, occurred_on=timezone.localdate())
    assert exc.value.code == "too_late"


def test_a_date_in_the_future_is_refused(submit: Any) -> None:
    with pytest.raises(ApplicationError) as exc:
        submit(occurred_on=timezone.localdate() + dt.timedelta(days=1))
    assert exc.value.code == "future"


# --- Evidence ---------------------------------------------------------------------------------


def test_a_jpeg_loses_its_gps_device_and_names(submit: Any) -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as img:
        assert img.getexif().get_ifd(0x8825)  # the fixture really carries GPS
    complaint = submit(files=[upload(original)])
    evidence = ComplaintEvidence.objects.get(complaint=complaint)
    assert evidence.kind == "photo" and evidence.content_type == "image/jpeg"
    with evidence.file.open("rb") as handle:
        stored = handle.read()
    assert b"Siti" not in stored and b"KameraMerk" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert dict(img.getexif()) == {}
        assert not img.getexif().get_ifd(0x8825)
        assert "exif" not in img.info and "icc_profile" not in img.info
        assert img.size == (64, 48)
    # Stored under a generated name, outside MEDIA_ROOT.
    from django.conf import settings

    assert "private" in evidence.file.path
    assert not evidence.file.path.startswith(str(settings.MEDIA_ROOT))


def test_png_becomes_a_clean_jpeg_and_pdf_is_kept_as_given(submit: Any) -> None:
    complaint = submit(files=[upload(png_bytes()), upload(PDF_BYTES)])
    photo, pdf = ComplaintEvidence.objects.filter(complaint=complaint).order_by("pk")
    assert photo.kind == "photo" and str(photo.file.name).endswith(".jpg")
    assert pdf.kind == "pdf"
    with pdf.file.open("rb") as handle:
        assert handle.read() == PDF_BYTES


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (EXE_BYTES, "evidence_type"),  # an executable, whatever its name says
        (b"", "evidence_empty"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_FILE_BYTES), "evidence_size"),
        (b"\xff\xd8\xff\xe0 not really a jpeg", "evidence_type"),
    ],
    ids=["exe-renamed-jpg", "zero-bytes", "too-large", "broken-jpeg"],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(submit: Any, data: bytes, code: str) -> None:
    with pytest.raises(ApplicationError) as exc:
        submit(files=[upload(data)])
    assert exc.value.code == code
    assert exc.value.field == "evidence"
    assert not Complaint.objects.exists()


def test_too_many_files_are_refused(submit: Any) -> None:
    with pytest.raises(ApplicationError) as exc:
        submit(files=[upload(PDF_BYTES)] * 4)
    assert exc.value.code == "evidence_count"


# --- The transitions table --------------------------------------------------------------------


def test_the_whole_journey(submit: Any, editor_a: Any, unit_a: Any) -> None:
    complaint = submit()
    services.complaint_verify(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.VERIFIED
    assert complaint.answer_due_at is not None and complaint.verify_done_at is not None
    services.complaint_forward(
        complaint=complaint, actor=editor_a, public_text="Antrean tiga jam, petugas membentak."
    )
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.FORWARDED and complaint.moderated_at
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Maaf, kami perbaiki.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED
    services.complaint_reopen(complaint=complaint, reason="Masih antre tiga jam.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.REOPENED and complaint.reopen_reason
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Loket ditambah.")
    services.complaint_close(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED
    with pytest.raises(ApplicationError) as exc:
        services.complaint_reopen(complaint=complaint, reason="Lagi.")
    assert exc.value.code == "reopened"
    assert list(
        ComplaintEvent.objects.filter(complaint=complaint).values_list("action", flat=True)
    ) == [
        "submit",
        "verify",
        "forward",
        "answer",
        "reopen",
        "answer",
        "close",
    ]


def test_a_step_outside_the_table_is_refused(submit: Any, editor_a: Any) -> None:
    complaint = submit()
    assert ("received", "answer") not in TRANSITIONS
    with pytest.raises(ApplicationError) as exc:
        services.complaint_answer(complaint=complaint, actor=editor_a, answer="x")
    assert exc.value.code in ("state", "permission_denied")
    with pytest.raises(ApplicationError) as exc:
        services.complaint_forward(complaint=complaint, actor=editor_a, public_text="x")
    assert exc.value.code == "state"


def test_another_agencys_staff_and_the_ombudsman_cannot_handle(
    submit: Any, editor_b: Any, ombudsman: Any
) -> None:
    complaint = submit()
    for user in (editor_b, ombudsman):
        with pytest.raises(PermissionDeniedError):
            services.complaint_verify(complaint=complaint, actor=user)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


def test_ask_for_more_and_the_citizens_reply(submit: Any, editor_a: Any) -> None:
    complaint = submit()
    services.complaint_ask_info(complaint=complaint, actor=editor_a, question="Jam berapa?")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.NEEDS_INFO and complaint.verify_done_at
    services.complaint_add_info(complaint=complaint, text="Jam sembilan pagi.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED
    assert "Jam sembilan" in complaint.description


def test_routing_to_another_agency(
    submit: Any, editor_a: Any, editor_b: Any, agency_b: Any, unit_b: Any
) -> None:
    complaint = submit()
    code = complaint.tracking_code
    services.complaint_route(complaint=complaint, actor=editor_a, agency=agency_b)
    complaint.refresh_from_db()
    assert (complaint.agency_id, complaint.unit_id) == (agency_b.pk, unit_b.pk)
    assert complaint.status == ComplaintStatus.RECEIVED and complaint.tracking_code == code
    assert complaint.verify_done_at is None and complaint.service_id is None
    event = complaint.events.get(action="route")
    assert event.from_agency_id == editor_a.memberships.get().agency_id
    # Agency A's handlers no longer see it; agency B's verify it.
    with pytest.raises(PermissionDeniedError):
        services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_verify(complaint=complaint, actor=editor_b)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.VERIFIED


def test_routing_to_the_same_agency_is_refused(submit: Any, editor_a: Any, agency_a: Any) -> None:
    complaint = submit()
    with pytest.raises(ApplicationError) as exc:
        services.complaint_route(complaint=complaint, actor=editor_a, agency=agency_a)
    assert exc.value.field == "agency"


def test_escalation_by_handler_and_by_citizen_once_each(submit: Any, editor_a: Any) -> None:
    complaint = submit()
    services.complaint_escalate(complaint=complaint, actor=None)
    services.complaint_escalate(complaint=complaint, actor=None)
    services.complaint_escalate(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.ombudsman_requested_at and complaint.escalated_at
    assert complaint.events.filter(action="escalate").count() == 2
