"""The public pages of places: a location's page, the public service malls by province and
city, "near me", the service page's "where it can be done", the search by a location's
facility, the sitemap; each with a query count that does not grow with the data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agencies.locations import counter_attach, location_create
from agencies.models import Location
from services.search import SearchFilters, service_search
from tests import factories
from tests.registry import publish_service


def _mall(agency: Any, name: str = "Mal Pelayanan Publik Kota A", **fields: Any) -> Location:
    defaults: dict[str, Any] = {
        "province": "Jawa Barat",
        "city": "Kota A",
        "address": "Jl. Cianjur No. 34",
        "latitude": Decimal("-6.911700"),
        "longitude": Decimal("107.634400"),
        "weekly_hours": {str(d): ["08:00", "15:00"] for d in range(7)},
        "facilities": ["lactation_room", "wheelchair"],
    }
    return location_create(host_agency=agency, name=name, kind="mpp", **(defaults | fields))


def _fill(mall: Location, n: int) -> None:
    """n agencies, each with a unit at the mall and two published services."""
    for i in range(n):
        agency = factories.AgencyFactory(level=["ministry", "province", "city"][i % 3])
        unit: Any = factories.UnitFactory(agency=agency)
        counter_attach(unit=unit, location=mall, label=f"Loket {i}")
        publish_service(agency, unit, f"Layanan {i} Satu")
        publish_service(agency, unit, f"Layanan {i} Dua")


def test_the_location_page_lists_agencies_services_hours_facilities_and_coordinates(
    client: Client, agency_a: Any
) -> None:
    mall = _mall(agency_a)
    _fill(mall, 3)
    html = client.get(mall.get_absolute_url()).content.decode()
    assert "<h1>Mal Pelayanan Publik Kota A</h1>" in html
    assert "3 instansi melayani di sini." in html
    assert "Layanan 2 Dua" in html and "Loket 1" in html
    assert "buka 08.00–15.00 WIB" in html
    assert "<span>Ruang laktasi</span>" in html
    # Without JavaScript or tiles the coordinates are there, in a dotted decimal.
    assert "-6.911700, 107.634400" in html
    assert 'data-tile-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert '<script id="map-points" type="application/json">' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "<script>" not in html  # CSP: no inline script (the data is JSON, not code)
    response = client.get(mall.get_absolute_url())
    assert "https://tile.openstreetmap.org" in response["Content-Security-Policy"]
    english = client.get("/en" + mall.get_absolute_url()).content.decode()
    assert "3 agencies serve here." in english and "open 08.00–15.00 WIB" in english


def test_without_a_tile_server_the_page_has_no_map_but_still_the_address(
    client: Client, agency_a: Any, settings: Any
) -> None:
    settings.MAP_TILE_URL = ""
    mall = _mall(agency_a)
    html = client.get(mall.get_absolute_url()).content.decode()
    assert "leaflet.js" not in html and "data-tile-url" not in html
    assert "Jl. Cianjur No. 34" in html and "-6.911700, 107.634400" in html


def test_the_mpp_list_groups_malls_by_province_and_city(client: Client, agency_a: Any) -> None:
    _mall(agency_a, "MPP Kota Bandung", province="Jawa Barat", city="Kota Bandung")
    _mall(agency_a, "MPP Kabupaten Sleman", province="DI Yogyakarta", city="Kabupaten Sleman")
    location_create(host_agency=agency_a, name="Kantor Biasa", kind="office", province="Jawa Barat")
    response = client.get(reverse("public:mpp_list"))
    html = response.content.decode()
    assert html.index("DI Yogyakarta") < html.index("Kabupaten Sleman") < html.index("Jawa Barat")
    assert html.index("Jawa Barat") < html.index("Kota Bandung") < html.index("MPP Kota Bandung")
    assert "Kantor Biasa" not in html


def test_the_service_page_says_where_it_can_be_done_and_links_the_mall(
    client: Client, agency_a: Any, unit_a: Any
) -> None:
    service, _version = publish_service(agency_a, unit_a, "Penerbitan Paspor")
    html = client.get(service.get_absolute_url()).content.decode()
    assert "Tempat mengurus layanan ini" in html
    mall = _mall(agency_a)
    counter_attach(unit=unit_a, location=mall, label="Loket 15")
    html = client.get(service.get_absolute_url()).content.decode()
    assert f'<a href="{mall.get_absolute_url()}">Mal Pelayanan Publik Kota A</a>' in html
    assert "Loket 15" in html
    unit_html = client.get(unit_a.get_absolute_url()).content.decode()
    assert mall.get_absolute_url() in unit_html


def test_near_me_lists_locations_and_their_services_nearest_first(
    client: Client, agency_a: Any, unit_a: Any
) -> None:
    far = _mall(agency_a, "MPP Surabaya", latitude=Decimal("-7.263"), longitude=Decimal("112.661"))
    near = _mall(agency_a, "MPP Bandung")
    counter_attach(unit=unit_a, location=near)
    publish_service(agency_a, unit_a, "Penerbitan KTP-el")
    response = client.get(reverse("public:locations_near"), {"lat": "-6.92", "lon": "107.6"})
    assert response.status_code == 200
    assert [p.name for p in response.context["locations"]] == [near.name, far.name]
    html = response.content.decode()
    assert "Penerbitan KTP-el" in html
    assert 'id="near-me-button"' in html and "hidden" in html  # shown by JS only
    assert "noindex" in html


@pytest.mark.parametrize(
    "params", [{"lat": "abc", "lon": "107"}, {"lat": "-6.9"}, {"lat": "100", "lon": "0"}]
)
def test_near_me_with_a_bad_point_says_so_in_indonesian(client: Client, params: Any) -> None:
    response = client.get(reverse("public:locations_near"), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert any(
        text in html
        for text in (
            "Garis lintang dan garis bujur harus berupa angka.",
            "Isi garis lintang dan garis bujur.",
            "Garis lintang harus di antara -90 dan 90",
        )
    )


def test_search_by_facility_finds_services_at_a_location_with_it(
    client: Client, agency_a: Any, unit_a: Any, unit_b: Any
) -> None:
    mall = _mall(agency_a)  # lactation room and wheelchair
    counter_attach(unit=unit_b, location=mall)
    publish_service(unit_b.agency, unit_b, "Penerbitan Paspor")
    publish_service(agency_a, unit_a, "Penerbitan KTP-el")

    def names(**filters: Any) -> list[str]:
        return [s.name for s in service_search(filters=SearchFilters(**filters))]

    assert names(facility="lactation_room") == ["Penerbitan Paspor"]
    assert names(facility="ramp") == []
    page = client.get(reverse("public:search"), {"q": "layanan dengan ruang laktasi"})
    assert [s.name for s in page.context["services"]] == ["Penerbitan Paspor"]
    mall.is_active = False
    mall.save()
    assert names(facility="lactation_room") == []


def test_the_sitemap_lists_every_open_location_and_the_mpp_list(
    client: Client, agency_a: Any
) -> None:
    mall = _mall(agency_a)
    office = location_create(host_agency=agency_a, name="Kantor Dinas A", kind="office")
    closed = location_create(host_agency=agency_a, name="Kantor Lama", kind="office")
    closed.is_active = False
    closed.save()
    xml = client.get("/sitemap.xml").content.decode()
    assert f"<loc>http://testserver{mall.get_absolute_url()}</loc>" in xml
    assert f"<loc>http://testserver{office.get_absolute_url()}</loc>" in xml
    assert f"http://testserver/en{office.get_absolute_url()}" in xml
    assert "<loc>http://testserver/mpp/</loc>" in xml
    assert closed.get_absolute_url() not in xml


@pytest.mark.parametrize("n", [1, 6])
def test_the_new_public_pages_have_flat_query_counts(
    n: int, client: Client, agency_a: Any, unit_a: Any, django_assert_num_queries: Any
) -> None:
    mall = _mall(agency_a)
    _fill(mall, n)
    for i in range(n):
        _mall(agency_a, f"MPP {i}", province=f"Provinsi {i % 3}", city=f"Kota {i}")
    service, _version = publish_service(agency_a, unit_a, "Penerbitan Paspor")
    for i in range(n):
        counter_attach(unit=unit_a, location=_mall(agency_a, f"Gerai {i}"))
    # location; its counters with units and agencies; their services.
    with django_assert_num_queries(3):
        assert client.get(mall.get_absolute_url()).status_code == 200
    # the malls with their host agencies.
    with django_assert_num_queries(1):
        assert client.get(reverse("public:mpp_list")).status_code == 200
    # the nearest locations; their counters with units and agencies; their services.
    with django_assert_num_queries(3):
        response = client.get(reverse("public:locations_near"), {"lat": "-6.9", "lon": "107.6"})
    assert len(response.context["locations"]) == min(20, 2 * n + 1)
    # "Where it can be done" on the service page: one query for the unit's counters and
    # their locations, whatever their number (the rest of the page is pinned in test_pages:
    # with the body cached, 6 in all, the life events and the ombudsman's findings included;
    # the performance figures come whole from their snapshot, delivery/figures.py).
    first = client.get(service.get_absolute_url())
    assert len(first.context["where"]) == n
    with django_assert_num_queries(6):
        client.get(service.get_absolute_url())


def test_a_counter_lists_its_units_first_services_and_links_the_rest(
    client: Client, agency_a: Any, unit_a: Any, django_assert_num_queries: Any
) -> None:
    from public_site.views.locations import COUNTER_SERVICES_SHOWN

    mall = _mall(agency_a)
    counter_attach(unit=unit_a, location=mall, label="Loket Besar")
    for i in range(COUNTER_SERVICES_SHOWN + 2):
        publish_service(agency_a, unit_a, f"Layanan {i:02d}")
    _fill(mall, 1)  # another unit, with two services: all shown
    # location; its counters with units and agencies; their first services (and totals).
    with django_assert_num_queries(3):
        html = client.get(mall.get_absolute_url()).content.decode()
    shown = [f"Layanan {i:02d}" for i in range(COUNTER_SERVICES_SHOWN)]
    assert all(f">{name}</a>" in html for name in shown)
    assert f">Layanan {COUNTER_SERVICES_SHOWN:02d}</a>" not in html
    assert (
        f'<a href="{unit_a.get_absolute_url()}#services-heading">dan 2 layanan lain dari unit ini</a>'
        in html
    )
    assert "Layanan 0 Satu" in html and "Layanan 0 Dua" in html
    assert html.count("layanan lain dari unit ini") == 1
    near = client.get(reverse("public:locations_near"), {"lat": "-6.9", "lon": "107.6"})
    assert "dan 2 layanan lain dari unit ini" in near.content.decode()
    english = client.get("/en" + mall.get_absolute_url()).content.decode()
    assert "and 2 more services of this unit" in english
