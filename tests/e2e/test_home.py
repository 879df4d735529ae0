from __future__ import annotations

import pytest

from demo.management.commands.seed_demo import seed_registry

pytestmark = pytest.mark.e2e


def test_home_page_renders_in_indonesian_then_english(page, transactional_db):
    seed_registry()
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Apa yang dijanjikan layanan publik kepada Anda?"
    )
    assert (
        page.get_by_role(
            "link", name="Dinas Kependudukan dan Pencatatan Sipil Kota Bandung"
        ).count()
        == 1
    )
    # Anonymous: a link (a cached public page holds no CSRF token, core.page_cache).
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "What does a public service promise you?"
    )
    page.get_by_role("link", name="Bahasa Indonesia").click()
    page.wait_for_url(lambda url: not url.rstrip("/").endswith("/en"))
    assert page.locator("html").get_attribute("lang") == "id"
