"""A citizen files a complaint with a photo from a service page and gets a tracking code; a
handler verifies and forwards it; the unit answers; the citizen sees the answer and reopens
it. In a real browser, in Indonesian, with axe on each new page (both languages)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from agencies.models import Role
from feedback.complaints.models import Complaint, ComplaintEvidence
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.registry import make_service

pytestmark = pytest.mark.e2e

JAKARTA = dt.timezone(dt.timedelta(hours=7))
PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(transactional_db: Any) -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def indonesian(msgid: str) -> str:
    with translation.override("id"):
        text = gettext(msgid)
    assert text != msgid, f"No Indonesian translation for {msgid!r}"
    return text


@pytest.fixture
def service(transactional_db: Any, national: Any, agency_a: Any, unit_a: Any) -> Any:
    service = make_service(agency_a, unit_a, name="Akta Kelahiran", slug="akta-kelahiran")
    data, children = factories.complete_version_data(is_free=True, clock_start="on_receipt")
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(
        version=version, acting_user=None, published_at=dt.datetime(2025, 1, 2, tzinfo=JAKARTA)
    )
    return service


def _login(page: Any, username: str) -> None:
    page.goto("/en/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/staff/**")


def _axe(page: Any) -> None:
    assert [v for v in _violations(page) if v["impact"] in BLOCKING] == []


def _both_languages(page: Any, path: str) -> None:
    for prefix in ("", "/en"):
        page.goto(f"{prefix}{path}")
        _axe(page)


def test_complaint_journey(
    page: Any, browser: Any, live_server: Any, service: Any, tmp_path: Path
) -> None:
    editor = factories.UserFactory(username="handler_a")
    factories.MembershipFactory(user=editor, agency=service.agency, role=Role.EDITOR)
    unit_staff = factories.UserFactory(username="unit_staff_a")
    factories.MembershipFactory(
        user=unit_staff, agency=service.agency, unit=service.unit, role=Role.EDITOR
    )
    photo = tmp_path / "IMG_0042.jpg"
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = "Nama Pemilik"
    Image.new("RGB", (80, 60), (10, 120, 40)).save(buffer, format="JPEG", exif=exif.tobytes())
    photo.write_bytes(buffer.getvalue())

    # 1. The citizen, from the service page.
    page.goto(f"/agencies/{service.agency.slug}/services/{service.slug}/")
    page.get_by_role("link", name=indonesian("Send a complaint online")).click()
    page.wait_for_url("**/complaints/service/**")
    assert page.locator("html").get_attribute("lang") == "id"
    _axe(page)
    form_path = page.url.split(live_server.url, 1)[1]
    page.get_by_label(indonesian("It took longer than promised")).check()
    page.get_by_label(indonesian("When did it happen?")).fill(
        (dt.date.today() - dt.timedelta(days=2)).isoformat()
    )
    page.get_by_label(indonesian("What happened?")).fill("Akta belum jadi setelah tiga minggu.")
    page.get_by_label(indonesian("Evidence (optional)")).set_input_files(str(photo))
    # Both privacy choices are on by default.
    assert page.get_by_label(
        indonesian("Anonymous: hide my identity from the agency and the public")
    ).is_checked()
    assert page.get_by_label(
        indonesian("Confidential: never publish my complaint, even without my name")
    ).is_checked()
    page.wait_for_timeout(5200)  # a person takes longer than the minimum fill time
    page.get_by_role("button", name=indonesian("Send my complaint")).click()
    page.wait_for_url("**/complaints/status/**")
    complaint = Complaint.objects.get()
    assert complaint.tracking_code in page.locator("h1").inner_text()
    assert complaint.tracking_code in page.locator(".messages").inner_text()
    evidence = ComplaintEvidence.objects.get()
    with evidence.file.open("rb") as handle:
        assert b"Nama Pemilik" not in handle.read()
    status_path = f"/complaints/status/{complaint.tracking_code}/"
    _both_languages(page, status_path)
    _both_languages(page, form_path)

    # 2. The handler verifies and forwards it.
    staff = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    _login(staff, "handler_a")
    staff.goto("/staff/complaints/")
    _axe(staff)
    staff.get_by_role("link", name=complaint.tracking_code).click()
    staff.wait_for_url(f"**/staff/complaints/{complaint.pk}/")
    _axe(staff)
    staff.locator("[data-action=verify]").click()
    staff.wait_for_url(f"**/staff/complaints/{complaint.pk}/")
    staff.locator("#id_public_text").fill("Akta belum jadi setelah tiga minggu.")
    staff.locator("[data-action=forward]").click()
    staff.wait_for_url(f"**/staff/complaints/{complaint.pk}/")
    assert (
        staff.locator("[data-complaint-status]").get_attribute("data-complaint-status")
        == "forwarded"
    )
    for prefix in ("", "/en"):
        staff.goto(f"{prefix}/staff/complaints/{complaint.pk}/")
        _axe(staff)

    # 3. The unit answers.
    unit_page = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    _login(unit_page, "unit_staff_a")
    unit_page.goto(f"/staff/complaints/{complaint.pk}/")
    unit_page.locator("#id_answer").fill("Akta sudah jadi, silakan ambil di loket 2.")
    unit_page.locator("[data-action=answer]").click()
    unit_page.wait_for_url(f"**/staff/complaints/{complaint.pk}/")

    # 4. The citizen sees the answer and reopens it.
    page.goto(status_path)
    assert "loket 2" in page.locator("[data-complaint-answer]").inner_text()
    page.get_by_label(indonesian("Why did the answer not solve it?")).fill(
        "Di loket 2 saya disuruh kembali minggu depan."
    )
    page.get_by_role("button", name=indonesian("Reopen my complaint")).click()
    page.wait_for_url(f"**{status_path}")
    assert (
        page.locator("[data-complaint-status]").get_attribute("data-complaint-status") == "reopened"
    )
    _axe(page)

    # The unit sees the reason once a handler has moderated it, and when to answer again.
    unit_page.goto(f"/staff/complaints/{complaint.pk}/")
    assert unit_page.locator("[data-reopen-pending]").count() == 1
    assert unit_page.locator("[data-reanswer-due]").inner_text().strip() != "—"
    staff.goto(f"/staff/complaints/{complaint.pk}/")
    assert "minggu depan" in staff.locator("#id_reopen_text").input_value()
    staff.locator("#id_reopen_text").fill("Di loket 2 disuruh kembali minggu depan.")
    staff.locator("[data-action=moderate-reopen]").click()
    staff.wait_for_url(f"**/staff/complaints/{complaint.pk}/")
    _axe(staff)
    unit_page.goto(f"/staff/complaints/{complaint.pk}/")
    assert "minggu depan" in unit_page.locator("[data-reopen-reason]").inner_text()
    _axe(unit_page)

    # The public figures page, both languages.
    _both_languages(page, f"/complaints/figures/{service.agency.slug}/services/{service.slug}/")
