"""Complaints before the ombudsman as cases: a reviewer opens a case from a complaint on the
desk (with its linked breach), the agency never reads the complainant's identity through
the case, and the complainant responds to the draft findings from the tracking page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agencies.models import Role
from cases import notices
from cases.models import Case, Finding
from feedback.complaints import cases as complaint_cases
from feedback.complaints.services import complaint_escalate
from notifications.models import Notification
from tests import factories
from tests.accounts.conftest import login_verified
from tests.cases.conftest import advance
from tests.feedback.complaints.conftest import SECRET_EMAIL, SECRET_NAME, SECRET_PHONE
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.django_db

RESPONSE = "Saya tidak setuju: antrean masih tiga jam minggu lalu."


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


@pytest.fixture
def on_desk(submit: Any, unit_a: Any, agency_a: Any, service_a: Any) -> Any:
    """A private complaint the citizen sent to the ombudsman, linked to a breach."""
    complaint = submit()
    breach = desk_breach(agency=agency_a, unit=unit_a, service=service_a, days_ago=3)
    complaint.linked_breach = breach
    complaint.save()
    return complaint_escalate(complaint=complaint, actor=None)


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


@pytest.mark.parametrize(
    ("who", "status"),
    [("ombudsman", 302), ("admin_a", 403), ("editor_a", 403), ("admin_b", 404), (None, 302)],
)
def test_who_opens_a_case_from_a_complaint(
    who: str | None, status: int, on_desk: Any, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who) if who else None
    response = client_for(user).post(f"/staff/complaints/{on_desk.pk}/case/")
    assert response.status_code == status
    opened = Case.objects.filter(complaint_id=on_desk.pk)
    if who == "ombudsman":
        case = opened.get()
        assert response["Location"] == f"/staff/cases/{case.pk}/"
    else:
        assert not opened.exists()
        if who is None:
            assert "/login" in response["Location"] or "/accounts/" in response["Location"]


def test_the_case_groups_the_complaint_and_its_breach_once(on_desk: Any, ombudsman: Any) -> None:
    case = complaint_cases.complaint_open_case(complaint=on_desk, acting_user=ombudsman)
    assert case.complaint_id == on_desk.pk
    assert list(case.breaches.values_list("pk", flat=True)) == [on_desk.linked_breach_id]
    assert (case.unit_id, case.agency_id, case.service_id) == (
        on_desk.unit_id,
        on_desk.agency_id,
        on_desk.service_id,
    )
    assert SECRET_NAME not in case.title
    response = client_for(ombudsman).post(f"/staff/complaints/{on_desk.pk}/case/")
    assert response.status_code == 302  # back to the complaint, with the refusal
    assert response["Location"] == f"/staff/complaints/{on_desk.pk}/"
    assert Case.objects.filter(complaint_id=on_desk.pk).count() == 1


def test_a_complaint_not_on_the_desk_is_no_case(submit: Any, ombudsman: Any) -> None:
    complaint = submit()
    response = client_for(ombudsman).post(f"/staff/complaints/{complaint.pk}/case/")
    assert response.status_code == 302
    assert not Case.objects.filter(complaint_id=complaint.pk).exists()
    page = client_for(ombudsman).get(f"/staff/complaints/{complaint.pk}/")
    assert b"/case/" not in page.content


def test_the_agency_never_reads_the_identity_through_the_case(
    on_desk: Any, ombudsman: Any, editor_a: Any, admin_a: Any
) -> None:
    case = complaint_cases.complaint_open_case(complaint=on_desk, acting_user=ombudsman)
    case = advance(case, ombudsman, editor_a, "draft_findings")
    page = client_for(ombudsman).get(f"/staff/cases/{case.pk}/").content.decode()
    assert f"/staff/complaints/{on_desk.pk}/" in page  # the reviewer reaches the complaint
    for user in (admin_a, editor_a):
        page = client_for(user).get(f"/staff/cases/{case.pk}/").content.decode()
        assert case.reference in page
        for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_PHONE, on_desk.description):
            assert secret not in page
        assert f"/staff/complaints/{on_desk.pk}/" not in page
        # The complaint page itself: still the privacy rule's answer (no identity).
        complaint_page = client_for(user).get(f"/staff/complaints/{on_desk.pk}/")
        assert SECRET_NAME not in complaint_page.content.decode()
        assert f"/staff/cases/{case.pk}/" not in complaint_page.content.decode()


def test_the_complainant_responds_to_the_draft_and_the_reviewer_reads_it(
    on_desk: Any, ombudsman: Any, editor_a: Any
) -> None:
    case = complaint_cases.complaint_open_case(complaint=on_desk, acting_user=ombudsman)
    status_url = f"/complaints/status/{on_desk.tracking_code}/"
    assert b"data-draft-findings" not in Client().get(status_url).content
    case = advance(case, ombudsman, editor_a, "draft_findings")
    page = Client().get(status_url).content.decode()
    assert "data-draft-findings" in page
    assert "Penundaan berlarut pada layanan akta." in page
    respond_url = f"{status_url}findings/"
    bad = Client().post(respond_url, {"text": ""})
    assert bad.status_code == 400
    assert Finding.objects.get(case=case).reporter_responded_at is None
    response = Client().post(respond_url, {"text": RESPONSE})
    assert response.status_code == 302
    finding = Finding.objects.get(case=case)
    assert finding.reporter_response == RESPONSE
    assert finding.responded_at is None  # not the agency's response
    assert Notification.objects.filter(
        event=notices.REPORTER_RESPONDED, subject_id=finding.pk
    ).exists()
    reviewer_page = client_for(ombudsman).get(f"/staff/cases/{case.pk}/").content.decode()
    assert RESPONSE in reviewer_page
    agency_page = client_for(editor_a).get(f"/staff/cases/{case.pk}/").content.decode()
    assert RESPONSE not in agency_page
    again = Client().post(respond_url, {"text": "Sekali lagi"})
    assert again.status_code == 400
    assert Finding.objects.get(case=case).reporter_response == RESPONSE


def test_the_response_window_closes(on_desk: Any, ombudsman: Any, editor_a: Any) -> None:
    case = complaint_cases.complaint_open_case(complaint=on_desk, acting_user=ombudsman)
    case = advance(case, ombudsman, editor_a, "draft_findings")
    finding = Finding.objects.get(case=case)
    assert finding.response_due_at is not None
    Finding.objects.filter(pk=finding.pk).update(
        response_due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    url = f"/complaints/status/{on_desk.tracking_code}/findings/"
    assert Client().post(url, {"text": RESPONSE}).status_code == 400
    assert Finding.objects.get(case=case).reporter_responded_at is None
