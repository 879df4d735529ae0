"""A complaint on the ombudsman's desk becomes a case; the reviewer issues draft findings;
the complainant reads them on the tracking page and responds, in Indonesian; the reviewer
reads the response in the case file. Axe on the changed pages, both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from cases.models import Finding
from feedback.complaints import cases as complaint_cases
from feedback.complaints.services import Contact, complaint_escalate, complaint_submit
from tests.cases.conftest import advance
from tests.e2e.test_complaint import _axe, _both_languages, indonesian
from tests.e2e.test_review_desk import _login_with_code
from tests.notifications import conftest as notifications_conftest

pytestmark = pytest.mark.e2e

RESPONSE = "Antrean masih tiga jam minggu lalu; mohon diperiksa lagi."


@pytest.fixture(autouse=True)
def _fresh_rate_limits(transactional_db: Any) -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


service = notifications_conftest.service  # the fixture: agency A's published service


def test_the_complainant_responds_to_the_draft_findings(
    page: Any, browser: Any, live_server: Any, service: Any, ombudsman: Any, editor_a: Any
) -> None:
    reviewer, editor = ombudsman, editor_a
    complaint = complaint_submit(
        service=service,
        category="time",
        occurred_on=dt.date.today() - dt.timedelta(days=2),
        description="Akta belum jadi setelah tiga minggu.",
        anonymous=True,
        confidential=True,
        contact=Contact(name="Siti", email="siti@example.org", phone=""),
    )
    complaint = complaint_escalate(complaint=complaint, actor=None)

    # The reviewer opens the case from the complaint's page.
    staff = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    _login_with_code(staff, reviewer)
    staff.goto(f"/staff/complaints/{complaint.pk}/")
    _axe(staff)
    staff.get_by_role("button", name=indonesian("Open a case from this complaint")).click()
    staff.wait_for_url("**/staff/cases/**")
    case = complaint_cases.case_of_complaint(complaint)
    assert case is not None
    case = advance(case, reviewer, editor, "draft_findings")

    # The complainant reads the draft and responds.
    status_path = f"/complaints/status/{complaint.tracking_code}/"
    _both_languages(page, status_path)
    page.goto(status_path)
    page.get_by_label(indonesian("Your response to the ombudsman's draft findings")).fill(RESPONSE)
    page.get_by_role("button", name=indonesian("Send my response")).click()
    page.wait_for_url(f"**{status_path}")
    assert indonesian("Your response was received on") in page.content()
    assert Finding.objects.get(case=case).reporter_response == RESPONSE
    _axe(page)

    # The reviewer reads it in the case file.
    staff.goto(f"/staff/cases/{case.pk}/")
    assert RESPONSE in staff.locator("[data-reporter-response]").inner_text()
    _axe(staff)
