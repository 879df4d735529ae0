"""A long public list in a real browser, in Bahasa Indonesia: an agency with more services and
more units than fit on a page (50 each), a visitor following "Berikutnya" through each list.
Served as an anonymous visitor is served in production, through the page cache."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache

from tests import factories
from tests.registry import publish_service

pytestmark = pytest.mark.e2e

SERVICES = 53
UNITS = 52


@pytest.fixture(autouse=True)
def _page_cache_on(settings: Any) -> None:
    settings.PUBLIC_PAGE_CACHE = True
    # Keyed by host and port: an entry left by another run must not answer for this one.
    cache.clear()


def _health_office() -> Any:
    agency = factories.AgencyFactory(name="Dinas Kesehatan Provinsi", slug="dinkes-prov")
    units = [
        factories.UnitFactory(agency=agency, name=f"Puskesmas {i:02d}", slug=f"puskesmas-{i:02d}")
        for i in range(UNITS)
    ]
    for i in range(SERVICES):
        publish_service(agency, units[0], f"Layanan {i:02d}")
    return agency


def test_a_visitor_pages_through_an_agencys_services_and_units(page, transactional_db):
    agency = _health_office()
    url = agency.get_absolute_url()
    page.goto(url)
    services = page.locator("section[aria-labelledby=services-heading] tbody th a")
    units = page.locator(
        "section[aria-labelledby=units-heading] ul.plain-list > li > a:first-child"
    )
    assert services.count() == 50 and units.count() == 50
    assert services.first.inner_text() == "Layanan 00"
    assert services.last.inner_text() == "Layanan 49"
    assert units.last.inner_text() == "Puskesmas 49"

    services_nav = page.get_by_role("navigation", name="Halaman", exact=True)
    assert "Halaman 1 dari 2" in services_nav.inner_text()
    services_nav.get_by_role("link", name="Berikutnya").click()
    page.wait_for_url(f"**{url}?page=2#services-heading")
    assert page.title().startswith("Dinas Kesehatan Provinsi · Halaman 2")
    assert services.all_inner_texts() == [f"Layanan {i:02d}" for i in range(50, SERVICES)]
    assert "51–53 dari 53" in page.locator("section[aria-labelledby=services-heading]").inner_text()
    # The units stay at their first page.
    assert units.count() == 50 and units.first.inner_text() == "Puskesmas 00"

    units_nav = page.get_by_role("navigation", name="Halaman: Unit pelayanan")
    assert "Halaman 1 dari 2" in units_nav.inner_text()
    units_nav.get_by_role("link", name="Berikutnya").click()
    page.wait_for_url(f"**{url}?units_page=2#units-heading")
    assert page.title().startswith("Dinas Kesehatan Provinsi · Unit pelayanan · Halaman 2")
    assert units.all_inner_texts() == [f"Puskesmas {i:02d}" for i in range(50, UNITS)]
    assert services.first.inner_text() == "Layanan 00"
    # The second unit page links to its unit.
    units.last.click()
    page.wait_for_url(f"**{url}units/puskesmas-{UNITS - 1:02d}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Puskesmas {UNITS - 1:02d}"

    page.go_back()
    page.wait_for_url(re.compile(r".*\?units_page=2#units-heading$"))
    page.get_by_role("navigation", name="Halaman: Unit pelayanan").get_by_role(
        "link", name="Sebelumnya"
    ).click()
    page.wait_for_url(f"**{url}#units-heading")
    assert units.last.inner_text() == "Puskesmas 49"
