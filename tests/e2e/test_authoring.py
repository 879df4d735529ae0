from __future__ import annotations

import pytest

from tests.registry import make_service

pytestmark = pytest.mark.e2e


def _login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Nama pengguna atau email").fill(username)
    page.get_by_label("Kata sandi").fill("secret-pass-123")
    page.get_by_role("button", name="Masuk").click()


def test_editor_drafts_approver_publishes_citizen_reads(
    page, browser, live_server, editor_a, approver_a, unit_a, transactional_db
):
    service = make_service(unit_a.agency, unit_a, name="Penerbitan Akta Kelahiran")
    _login(page, "editor_a")
    page.goto(f"/staff/standards/services/new/?agency={unit_a.agency_id}")
    page.get_by_label("Nama layanan").fill("Penerbitan Kartu Identitas Anak")
    page.get_by_label("Unit yang bertanggung jawab").select_option(str(unit_a.pk))
    page.get_by_label("Jangka waktu penyelesaian").fill("3")
    page.get_by_label("Gratis").check()
    page.get_by_label("Produk pelayanan").fill("Kartu Identitas Anak")
    add_requirement = page.locator("[data-formset-prefix=req] .formset-add")
    add_requirement.click()  # two blank rows by default, a third added by script
    for index, name in enumerate(["Fotokopi KK", "Akta kelahiran anak", "Pas foto 2x3"]):
        page.locator(f"#id_req-{index}-name").fill(name)
    page.locator("#id_step-0-actor").fill("Pemohon")
    page.locator("#id_step-0-description").fill("Menyerahkan berkas")
    page.locator("#id_step-1-actor").fill("Petugas")
    page.locator("#id_step-1-description").fill("Mencetak KIA")
    page.get_by_role("button", name="Simpan draf").click()
    assert page.get_by_test_id("version-status").inner_text() == "Draf"
    page.get_by_role("button", name="Kirim untuk persetujuan").click()
    assert page.get_by_test_id("version-status").inner_text() == "Menunggu persetujuan"
    version_url = page.url

    approver_context = browser.new_context(base_url=live_server.url, locale="id-ID")
    approver = approver_context.new_page()
    _login(approver, "approver_a")
    approver.goto(version_url)
    approver.get_by_label("Saya tahu standar ini belum lengkap dan tetap menerbitkannya").check()
    approver.get_by_role("button", name="Terbitkan").click()
    assert approver.get_by_test_id("version-status").inner_text() == "Terbit"
    approver.get_by_role("link", name="Lihat halaman publik").click()

    citizen_context = browser.new_context(base_url=live_server.url, locale="id-ID")
    citizen = citizen_context.new_page()
    citizen.goto(approver.url)
    assert citizen.get_by_role("heading", level=1).inner_text() == "Penerbitan Kartu Identitas Anak"
    checklist = citizen.locator(".checklist li")
    assert checklist.count() == 3
    assert "Pas foto 2x3" in checklist.nth(2).inner_text()
    assert citizen.locator(".steps li").count() == 2
    assert "3 hari kerja" in citizen.locator(".promise-box").inner_text()
    assert service.pk  # the other service stays unpublished and absent from the public list
    citizen.goto("/")
    assert citizen.get_by_role("link", name="Penerbitan Akta Kelahiran").count() == 0
    citizen_context.close()
    approver_context.close()
