"""An editor drafts a charter, an approver publishes it, a citizen reads it on the unit page
and downloads its poster."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.models import Charter
from tests.charter.conftest import publish_standard
from tests.registry import make_service

pytestmark = pytest.mark.e2e


def _login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Nama pengguna atau email").fill(username)
    page.get_by_label("Kata sandi").fill("secret-pass-123")
    page.get_by_role("button", name="Masuk").click()


def test_editor_drafts_approver_publishes_citizen_downloads_the_poster(
    page, browser, live_server, editor_a, approver_a, unit_a, transactional_db
):
    service = make_service(unit_a.agency, unit_a, "Penerbitan Akta Kelahiran", acting_user=editor_a)
    publish_standard(service, editor_a, approver_a)

    _login(page, "editor_a")
    page.goto("/staff/")
    page.get_by_role("link", name="Maklumat pelayanan").click()
    page.get_by_role("link", name="Maklumat baru").click()
    page.get_by_label("Unit").select_option(str(unit_a.pk))
    page.get_by_role("button", name="Lanjutkan").click()
    page.get_by_label("Penerbitan Akta Kelahiran").check()
    page.get_by_label("Ditandatangani oleh").fill("Dra. Siti Rahmawati")
    page.get_by_label("Jabatan penanda tangan").fill("Kepala Dinas")
    page.get_by_label("Tanggal penandatanganan").fill("2026-03-02")
    page.get_by_label("Nomor SK").fill("800/7/2026")
    page.get_by_label("Kompensasi per hari keterlambatan (Rp)").fill("20000")
    page.get_by_role("button", name="Simpan draf").click()
    assert page.locator(".charter-status").inner_text() == "Draf"
    assert page.get_by_role("button", name="Terbitkan maklumat").count() == 0  # not an approver
    charter_url = page.url

    approver_context = browser.new_context(base_url=live_server.url, locale="id-ID")
    approver = approver_context.new_page()
    _login(approver, "approver_a")
    approver.goto(charter_url)
    approver.get_by_role("button", name="Terbitkan maklumat").click()
    assert approver.locator(".charter-status").inner_text() == "Terbit"
    approver_context.close()

    citizen_context = browser.new_context(base_url=live_server.url, locale="id-ID")
    citizen = citizen_context.new_page()
    citizen.goto(unit_a.get_absolute_url())
    charter = Charter.objects.get(unit=unit_a, status="published")
    assert "Dengan ini" in citizen.locator(".charter-box blockquote").inner_text()
    with citizen.expect_download() as download_info:
        citizen.get_by_role("link", name="Unduh poster (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"maklumat-pelayanan-{unit_a.slug}-v1-a4.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    assert charter.decree_number == "800/7/2026" and charter.compensation_per_day == 20000
    citizen_context.close()
