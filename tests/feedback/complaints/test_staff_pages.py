"""The handlers' pages: bad input gets field errors (never a 500), the ombudsman's desk."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from feedback.complaints import services
from feedback.complaints.models import ComplaintEvidence
from tests.accounts.conftest import login_verified
from tests.feedback.complaints.conftest import PDF_BYTES, upload

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_bad_input_gets_field_errors_in_indonesian(
    submit: Any, editor_a: Any, agency_a: Any, unit_b: Any
) -> None:
    complaint = submit()
    client = _client(editor_a)
    # Routing to one's own agency (not offered) or to nothing.
    for value in (str(agency_a.pk), "", "abc"):
        response = client.post(
            reverse("complaint_staff:route", args=[complaint.pk]), {"agency": value}
        )
        assert response.status_code == 400
        assert "id_agency_error" in response.content.decode()
    # Asking with no question.
    response = client.post(reverse("complaint_staff:ask", args=[complaint.pk]), {"question": " "})
    assert response.status_code == 400
    services.complaint_verify(complaint=complaint, actor=editor_a)
    # Forwarding to another agency's unit, with no text.
    response = client.post(
        reverse("complaint_staff:forward", args=[complaint.pk]),
        {"unit": str(unit_b.pk), "public_text": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "id_unit_error" in html and "id_public_text_error" in html
    # A step the table does not allow: a message, not a 500.
    response = client.post(reverse("complaint_staff:close", args=[complaint.pk]), {"note": ""})
    assert response.status_code == 400
    assert "Langkah ini tidak dapat dilakukan" in response.content.decode()
    # A control character in a text field.
    response = client.post(
        reverse("complaint_staff:answer", args=[complaint.pk]), {"answer": "a\x00b"}
    )
    assert response.status_code == 400
    complaint.refresh_from_db()
    assert complaint.status == "verified"


def test_unknown_complaint_and_evidence_are_404(editor_a: Any, submit: Any) -> None:
    client = _client(editor_a)
    assert client.get(reverse("complaint_staff:detail", args=[999999])).status_code == 404
    assert client.get(reverse("complaint_staff:evidence", args=[999999])).status_code == 404
    complaint = submit(files=[upload(PDF_BYTES)])
    evidence = ComplaintEvidence.objects.get(complaint=complaint)
    evidence.file.delete(save=False)
    assert client.get(reverse("complaint_staff:evidence", args=[evidence.pk])).status_code == 404


def test_the_ombudsmans_desk_lists_escalated_and_requested(
    submit: Any, editor_a: Any, ombudsman: Any
) -> None:
    quiet = submit()
    asked = submit()
    escalated = submit()
    services.complaint_escalate(complaint=asked, actor=None)
    services.complaint_escalate(complaint=escalated, actor=editor_a)
    html = _client(ombudsman).get(reverse("complaint_staff:list") + "?desk=1").content.decode()
    assert asked.tracking_code in html and escalated.tracking_code in html
    assert quiet.tracking_code not in html
