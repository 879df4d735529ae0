"""A citizen's journey: find the KTP-el service, read the promise, the charter, the poster,
and compare agencies. Screenshots are saved on failure by the `page` fixture."""

from __future__ import annotations

import re

import pytest

from demo.management.commands.seed_demo import seed_registry

pytestmark = pytest.mark.e2e

KTP_EL = "Penerbitan KTP Elektronik (KTP-el)"


def test_citizen_finds_a_service_reads_it_and_downloads_the_charter_poster(page, transactional_db):
    seed_registry()
    page.goto("/")
    page.get_by_role("searchbox").fill("ktp")
    page.get_by_role("button", name="Cari").click()
    page.wait_for_url("**/search/?q=ktp")
    results = page.locator(".result-list .result h3 a")
    assert results.first.inner_text() == KTP_EL

    results.first.click()
    page.wait_for_url("**/agencies/disdukcapil-kota-bandung/services/ktp-el/")
    assert page.get_by_role("heading", level=1).inner_text() == KTP_EL
    promise = page.locator(".promise-box")
    assert "1 hari kerja" in promise.inner_text()
    assert "Gratis" in promise.inner_text()
    requirements = page.locator(".checklist li")
    assert requirements.count() == 3
    assert "Fotokopi Kartu Keluarga (KK)" in requirements.first.inner_text()
    requirements.first.get_by_role("checkbox").check()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/agencies/disdukcapil-kota-bandung/services/ktp-el/")
    assert page.locator("html").get_attribute("lang") == "en"
    promise = page.locator(".promise-box")
    assert "1 working days" in promise.inner_text() or "1 working day" in promise.inner_text()
    assert "Free" in promise.inner_text()
    assert re.search(r"due by \w+day, \d{1,2} \w+ \d{4}", promise.inner_text())

    page.get_by_role("link", name="Read the charter").click()
    page.wait_for_url(re.compile(r".*/en/charters/\d+/$"))
    assert "Citizen charter" in page.get_by_role("heading", level=1).inner_text()
    assert "Dengan ini, kami menyatakan sanggup" in page.locator(".pledge").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download poster (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Dinas Kependudukan dan Pencatatan Sipil Kota Bandung"
    ).click()
    page.wait_for_url("**/en/agencies/disdukcapil-kota-bandung/")
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Agencies").click()
    page.wait_for_url("**/en/agencies/")
    assert page.get_by_role("heading", level=1).inner_text() == "Agencies compared"
    table = page.get_by_role("table")
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Bandung" in table.inner_text()
    assert table.locator("tbody tr").count() == 3


@pytest.mark.parametrize("query", ["KTP elektronik", "e-ktp", "ktp elektonik"])
def test_other_spellings_find_the_ktp_el_service_first(page, transactional_db, query):
    seed_registry()
    page.goto("/")
    page.get_by_role("searchbox").fill(query)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.locator(".result-list .result h3 a").first.inner_text() == KTP_EL
