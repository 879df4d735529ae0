"""Places in a real browser: an agency admin gives a new unit Saturday hours and a lactation
room and the public unit page shows both; a citizen goes from a service page to its public
service mall; axe on the new pages (location, MPP list, near me, staff location pages) in
both languages."""

from __future__ import annotations

import pytest

from agencies.models import Unit
from demo.locations import seed_locations
from demo.management.commands.seed_demo import seed_registry
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.e2e.test_notification_settings import _login_with_code

pytestmark = pytest.mark.e2e

MALL = "/locations/mal-pelayanan-publik-kota-bandung/"


def test_an_agency_admin_adds_a_unit_with_saturday_hours_and_a_lactation_room(
    page, admin_a, agency_a, transactional_db
):
    _login_with_code(page, admin_a)
    page.goto(f"/staff/agency/{agency_a.slug}/units/")
    page.locator("#id_name").fill("Loket Sabtu Kecamatan")
    page.locator("#create-heading + form button[type=submit]").click()
    page.wait_for_url("**/units/loket-sabtu-kecamatan/")
    for day in range(5):
        page.locator(f"#id_opens_{day}").fill("08:00")
        page.locator(f"#id_closes_{day}").fill("15:00")
    page.locator("#id_opens_5").fill("08:00")
    page.locator("#id_closes_5").fill("12:00")
    page.get_by_label("Ruang laktasi").check()
    page.get_by_role("button", name="Simpan", exact=True).click()
    assert page.locator(".message-success").count() == 1
    unit = Unit.objects.get(slug="loket-sabtu-kecamatan")
    assert unit.facilities == ["lactation_room"]
    assert unit.weekly_hours["5"] == ["08:00", "12:00"]

    page.get_by_role("link", name="Lihat halaman publik").click()
    page.wait_for_url(f"**/agencies/{agency_a.slug}/units/loket-sabtu-kecamatan/")
    assert "Sabtu: 08.00–12.00" in page.locator(".week-hours").inner_text()
    facilities = page.locator(".facility-list")
    assert facilities.get_by_text("Ruang laktasi").is_visible()
    # The icon is decoration: hidden from assistive technology, the text says it all.
    assert facilities.locator("svg").first.get_attribute("aria-hidden") == "true"


def test_a_citizen_finds_the_public_service_mall_from_the_service_page(page, transactional_db):
    seed_registry()
    seed_locations()
    page.goto("/agencies/bapenda-provinsi-jawa-barat/services/pengesahan-stnk-tahunan/")
    where = page.locator(
        "section", has=page.get_by_role("heading", name="Tempat mengurus layanan ini")
    )
    where.get_by_role("link", name="Mal Pelayanan Publik Kota Bandung").click()
    page.wait_for_url(f"**{MALL}")
    assert page.get_by_role("heading", level=1).inner_text() == "Mal Pelayanan Publik Kota Bandung"
    counters = page.locator(
        "section",
        has=page.get_by_role("heading", name="Instansi dan layanan yang dilayani di sini"),
    )
    text = counters.inner_text()
    for agency in (
        "Dinas Kependudukan dan Pencatatan Sipil Kota Bandung",
        "Badan Pendapatan Daerah Provinsi Jawa Barat",
        "Kantor Imigrasi Kelas I TPI Bandung",
    ):
        assert agency in text
    assert "-6.911700, 107.634400" in page.locator(".facts").inner_text()
    # Leaflet (from our own static files) drew the map; the tiles may not load here.
    page.wait_for_selector(".location-map.location-map-on .leaflet-marker-icon")
    page.get_by_role("link", name="Mal Pelayanan Publik (MPP)").first.click()
    page.wait_for_url("**/mpp/")
    assert page.get_by_role("heading", name="Jawa Barat").is_visible()


def test_no_serious_or_critical_axe_violation_on_the_new_pages(
    page, admin_a, agency_a, unit_a, transactional_db
):
    seed_registry()
    seed_locations()
    from agencies.locations import location_create

    location = location_create(host_agency=agency_a, name="Kantor Dinas A", kind="office")
    public = [
        MALL,
        "/mpp/",
        "/locations/near/",
        "/locations/near/?lat=-6.92&lon=107.6",
        "/locations/near/?lat=abc&lon=107.6",
        "/search/?facility=lactation_room",
        "/agencies/bapenda-provinsi-jawa-barat/services/pengesahan-stnk-tahunan/",
    ]
    staff = [
        f"/staff/agency/{agency_a.slug}/locations/",
        f"/staff/agency/{agency_a.slug}/locations/{location.slug}/",
        f"/staff/agency/{agency_a.slug}/units/{unit_a.slug}/",
        f"/staff/agency/{agency_a.slug}/units/{unit_a.slug}/locations/",
    ]
    problems: dict[str, list[dict]] = {}
    _login_with_code(page, admin_a)
    for language, prefix in (("id", ""), ("en", "/en")):
        for path in public + staff:
            response = page.goto(prefix + path)
            assert response is not None
            assert response.status == (400 if "abc" in path else 200), prefix + path
            assert page.locator("html").get_attribute("lang") == language
            blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
            if blocking:
                problems[prefix + path] = blocking
    assert not problems, problems
