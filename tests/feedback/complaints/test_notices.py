"""The complaint emails: what the citizen and the unit are told, and what they are not."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from feedback.complaints import services
from feedback.complaints.notices import COMPLAINT_CONFIRM, COMPLAINT_UPDATE
from notifications import registry
from notifications.models import Notification
from tests.feedback.complaints.conftest import SECRET_EMAIL

pytestmark = pytest.mark.django_db


def _render(row: Notification) -> str:
    found = registry.message_type(row.event)
    assert found is not None
    email = found.render_email(row, "id")
    return email.subject + email.text + email.html


def test_the_citizen_hears_the_answer_after_confirming_and_never_gets_a_staff_link(
    submit: Any, editor_a: Any
) -> None:
    complaint = submit()
    confirm = _render(Notification.objects.get(event=COMPLAINT_CONFIRM))
    assert "/complaints/confirm/" in confirm and complaint.tracking_code not in confirm
    services.complaint_confirm_email(complaint=complaint, email=SECRET_EMAIL, now=timezone.now())
    complaint.refresh_from_db()
    services.complaint_verify(complaint=complaint, actor=editor_a)
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Teks.")
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Petugas sudah ditegur.")
    rows = Notification.objects.filter(event=COMPLAINT_UPDATE).order_by("pk")
    assert rows.count() == 3
    text = _render(rows.last())  # type: ignore[arg-type]
    assert "Petugas sudah ditegur." in text
    assert f"/complaints/status/{complaint.tracking_code}/" in text
    assert "/staff/" not in text
    assert registry.is_personal(COMPLAINT_UPDATE) and registry.is_personal(COMPLAINT_CONFIRM)


def test_the_unit_is_told_of_a_new_complaint_without_its_text(submit: Any) -> None:
    complaint = submit()
    row = Notification.objects.get(event="complaint_received")
    assert row.recipient == ""  # a fan-out row: the unit's contact addresses
    text = _render(row)
    assert f"/staff/complaints/{complaint.pk}/" in text
    assert "membentak" not in text and complaint.tracking_code not in text
