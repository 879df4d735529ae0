"""Pagination of the public lists that grow with the data (issue 17): the agency's, the unit's
and the charter's services, the agency's units and charters, and the league of agencies. Page links in Bahasa Indonesia and
English, `?page=` validated (a 404, never a 500, never a cache entry), canonical and
prev/next links, query counts that do not grow with the data, one cache entry per page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core import page_cache
from core.page_cache import STATUS_HEADER
from tests import factories
from tests.registry import publish_service

PAGE_SIZE = 3


@pytest.fixture(autouse=True)
def _small_pages(settings: Any) -> None:
    settings.PUBLIC_LIST_PAGE_SIZE = PAGE_SIZE


def _services(agency: Any, unit: Any, n: int) -> list[Any]:
    # Zero-padded: the names sort as they are numbered.
    return [publish_service(agency, unit, f"Layanan {i:02d}")[0] for i in range(n)]


def _names(html: str) -> list[str]:
    return re.findall(r">(Layanan \d\d)</a>", html)


@pytest.fixture
def seven(national: Any, agency_a: Any, unit_a: Any) -> list[Any]:
    """Seven services of unit A, so three pages of three: 3, 3 and 1."""
    return _services(agency_a, unit_a, 7)


@pytest.fixture
def charter_of_seven(unit_a: Any, seven: list[Any]) -> Any:
    from charter.models import CharterStatus

    charter = factories.CharterFactory.create(unit=unit_a, services=seven)
    charter.status = CharterStatus.PUBLISHED
    charter.save(update_fields=["status"])
    return charter


def _url(kind: str, agency: Any, unit: Any, charter: Any) -> str:
    return {
        "agency": agency.get_absolute_url(),
        "unit": unit.get_absolute_url(),
        "charter": charter.get_absolute_url(),
    }[kind]


KINDS = ["agency", "unit", "charter"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_page_lists_its_share_of_the_services_in_name_order(
    client, agency_a, unit_a, charter_of_seven, kind
):
    url = _url(kind, agency_a, unit_a, charter_of_seven)
    first = client.get(url)
    second = client.get(url, {"page": "2"})
    last = client.get(url, {"page": "3"})
    assert [r.status_code for r in (first, second, last)] == [200, 200, 200]
    assert _names(first.content.decode()) == ["Layanan 00", "Layanan 01", "Layanan 02"]
    assert _names(second.content.decode()) == ["Layanan 03", "Layanan 04", "Layanan 05"]
    assert _names(last.content.decode()) == ["Layanan 06"]
    # "?page=1" and "?page=" are the first page.
    assert _names(client.get(url, {"page": "1"}).content.decode()) == _names(first.content.decode())
    assert _names(client.get(url + "?page=").content.decode()) == _names(first.content.decode())


@pytest.mark.parametrize("kind", KINDS)
def test_page_links_are_numbered_in_indonesian_and_english_and_land_on_the_list(
    client, agency_a, unit_a, charter_of_seven, kind
):
    url = _url(kind, agency_a, unit_a, charter_of_seven)
    html = client.get(url, {"page": "2"}).content.decode()
    assert "Halaman 2 dari 3" in html
    assert "Sebelumnya" in html and "Berikutnya" in html
    assert "7–9" not in html and "4–6 dari 7" in html
    # Page 1 has one address: without `page`.
    assert f'<a href="{url}#services-heading" rel="prev">' in html
    assert f'<a href="{url}?page=3#services-heading" rel="next">' in html
    assert (
        f'<a href="{url}?page=3#services-heading"><span class="visually-hidden">Halaman </span>3</a>'
        in html
    )
    assert '<span aria-current="page"><span class="visually-hidden">Halaman </span>2</span>' in html
    assert "<title>" in html and re.search(r"<title>[^<]*· Halaman 2", html)

    english = client.get("/en" + url, {"page": "3"}).content.decode()
    assert "Page 3 of 3" in english and "Previous" in english and "Next" not in english
    assert "7–7 of 7" in english


@pytest.mark.parametrize("kind", KINDS)
def test_canonical_and_prev_next_links_name_the_page(
    client, agency_a, unit_a, charter_of_seven, kind
):
    url = _url(kind, agency_a, unit_a, charter_of_seven)
    base = f"http://testserver{url}"
    first = client.get(url).content.decode()
    assert f'<link rel="canonical" href="{base}">' in first
    assert 'rel="prev"' not in first.split("</head>")[0]
    assert f'<link rel="next" href="{base}?page=2">' in first
    second = client.get(url, {"page": "2"}).content.decode()
    assert f'<link rel="canonical" href="{base}?page=2">' in second
    assert f'<link rel="prev" href="{base}">' in second
    assert f'<link rel="next" href="{base}?page=3">' in second
    assert f'hreflang="en" href="http://testserver/en{url}?page=2"' in second
    last = client.get(url, {"page": "3"}).content.decode()
    assert 'rel="next"' not in last.split("</head>")[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "raw", ["4", "99", "0", "-1", "02", "1.0", "abc", "2abc", " 2", "9999999", "١"]
)
def test_a_page_out_of_range_or_not_a_plain_number_is_404(
    client, agency_a, unit_a, charter_of_seven, kind, raw
):
    url = _url(kind, agency_a, unit_a, charter_of_seven)
    assert client.get(url, {"page": raw}).status_code == 404


def test_the_page_parameter_twice_is_404(client, agency_a, unit_a, seven):
    assert client.get(agency_a.get_absolute_url() + "?page=1&page=2").status_code == 404


def test_a_list_of_one_page_has_no_page_links_and_a_plain_canonical(
    client, national, agency_a, unit_a
):
    _services(agency_a, unit_a, PAGE_SIZE)
    html = client.get(agency_a.get_absolute_url()).content.decode()
    assert len(_names(html)) == PAGE_SIZE
    assert 'class="pagination"' not in html and 'rel="next"' not in html
    assert client.get(agency_a.get_absolute_url(), {"page": "2"}).status_code == 404


def test_an_empty_list_has_its_first_page(client, agency_a, unit_a):
    response = client.get(unit_a.get_absolute_url())
    assert response.status_code == 200
    assert "Belum ada layanan yang menerbitkan standar pelayanannya." in response.content.decode()
    assert client.get(unit_a.get_absolute_url(), {"page": "2"}).status_code == 404


@pytest.mark.parametrize("n", [4, 10])
def test_query_counts_per_page_do_not_grow_with_the_list(
    client, national, agency_a, unit_a, django_assert_num_queries, n
):
    _services(agency_a, unit_a, n)
    last = str(-(-n // PAGE_SIZE))
    # The first visit of each page also computes the delivery figures, then cached (the
    # first visit's count is pinned in test_pages).
    client.get(agency_a.get_absolute_url())
    client.get(unit_a.get_absolute_url())
    for number in ("1", "2", last):
        # agency; the services' count, the units' and the charters' (none: no rows to fetch);
        # figures; the page's services, their versions and cost items; its units; the
        # Ombudsman's findings and records (3).
        with django_assert_num_queries(12):
            assert client.get(agency_a.get_absolute_url(), {"page": number}).status_code == 200
        # unit; the services' count; charters; figures; the page's services, their versions
        # and cost items; the national calendar's days off; where the unit serves.
        with django_assert_num_queries(9):
            assert client.get(unit_a.get_absolute_url(), {"page": number}).status_code == 200


@pytest.mark.parametrize("n", [4, 10])
def test_charter_query_counts_per_page_do_not_grow_with_the_list(
    client, national, agency_a, unit_a, django_assert_num_queries, n
):
    from charter.models import CharterStatus

    charter = factories.CharterFactory.create(unit=unit_a, services=_services(agency_a, unit_a, n))
    charter.status = CharterStatus.PUBLISHED
    charter.save(update_fields=["status"])
    for number in ("1", "2", str(-(-n // PAGE_SIZE))):
        # The charter; the count of its services; the page's services.
        with django_assert_num_queries(3):
            assert client.get(charter.get_absolute_url(), {"page": number}).status_code == 200


# --- The page cache: one entry per page -------------------------------------------------


@pytest.fixture
def _page_cache_on(settings: Any) -> Iterator[None]:
    settings.PUBLIC_PAGE_CACHE = True
    page_cache._local.forget()
    yield
    page_cache._local.forget()


@pytest.mark.usefixtures("_page_cache_on")
@pytest.mark.parametrize("kind", KINDS)
def test_the_page_cache_keeps_each_page_apart(client, agency_a, unit_a, charter_of_seven, kind):
    url = _url(kind, agency_a, unit_a, charter_of_seven)
    first = client.get(url)
    second = client.get(url, {"page": "2"})
    assert [first[STATUS_HEADER], second[STATUS_HEADER]] == ["miss", "miss"]
    again = client.get(url, {"page": "2"})
    assert again[STATUS_HEADER] == "hit" and again.content == second.content
    assert _names(again.content.decode()) == ["Layanan 03", "Layanan 04", "Layanan 05"]
    assert client.get(url)[STATUS_HEADER] == "hit"
    # A bad page number is a 404, never kept.
    for _ in range(2):
        bad = client.get(url, {"page": "abc"})
        assert bad.status_code == 404 and STATUS_HEADER not in bad


@pytest.mark.usefixtures("_page_cache_on")
def test_a_new_service_shows_on_its_page_at_once(client, agency_a, unit_a, seven):
    url = agency_a.get_absolute_url()
    assert client.get(url, {"page": "3"})[STATUS_HEADER] == "miss"
    assert client.get(url, {"page": "3"})[STATUS_HEADER] == "hit"
    publish_service(agency_a, unit_a, "Layanan 99")
    html = client.get(url, {"page": "3"}).content.decode()
    assert _names(html) == ["Layanan 06", "Layanan 99"]


# --- The agency's units and charters: their own parameters, one list at a time -----------


def _health_office(n: int) -> Any:
    """A health office with `n` puskesmas, each with a published charter (and the service
    it covers)."""
    from charter.services import charter_publish

    agency = factories.AgencyFactory(name="Dinas Kesehatan", slug="dinkes")
    for i in range(n):
        unit = factories.UnitFactory(agency=agency, name=f"Puskesmas {i:02d}")
        charter_publish(charter=factories.CharterFactory.create(unit=unit))
    return agency


@pytest.fixture
def health_office(national: Any) -> Any:
    """Seven puskesmas, so three pages of three units and of three charters."""
    return _health_office(7)


def _section(html: str, heading: str) -> str:
    start = html.index(f'id="{heading}"')
    return html[start : html.index("</section>", start)]


def _units(html: str) -> list[str]:
    return re.findall(r">(Puskesmas \d\d)</a>", _section(html, "units-heading"))


def _charters(html: str) -> list[str]:
    return re.findall(
        r">Maklumat pelayanan (Puskesmas \d\d)</a>", _section(html, "charters-heading")
    )


LISTS = [("units_page", _units), ("charters_page", _charters)]


@pytest.mark.parametrize(("parameter", "names"), LISTS)
def test_units_and_charters_are_paged_by_their_own_parameter_in_name_order(
    client, health_office, parameter, names
):
    url = health_office.get_absolute_url()
    pages = [client.get(url, {parameter: number}) for number in ("1", "2", "3")]
    assert [r.status_code for r in pages] == [200, 200, 200]
    htmls = [r.content.decode() for r in pages]
    assert [names(html) for html in htmls] == [
        ["Puskesmas 00", "Puskesmas 01", "Puskesmas 02"],
        ["Puskesmas 03", "Puskesmas 04", "Puskesmas 05"],
        ["Puskesmas 06"],
    ]
    plain = client.get(url).content.decode()
    assert names(plain) == names(htmls[0])
    assert names(client.get(url + f"?{parameter}=").content.decode()) == names(plain)
    # The other lists stay at their first page.
    other = _charters if names is _units else _units
    assert [other(html) for html in htmls] == [other(plain)] * 3
    assert _names_of_services(htmls[1]) == _names_of_services(plain)


def _names_of_services(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("parameter", "heading", "label_id", "label_en"),
    [
        ("units_page", "units-heading", "Unit pelayanan", "Service units"),
        ("charters_page", "charters-heading", "Maklumat pelayanan", "Citizen charters"),
    ],
)
def test_unit_and_charter_page_links_in_indonesian_and_english_keep_to_their_list(
    client, health_office, parameter, heading, label_id, label_en
):
    url = health_office.get_absolute_url()
    html = client.get(url, {parameter: "2"}).content.decode()
    section = _section(html, heading)
    assert f'<nav class="pagination" aria-label="Halaman: {label_id}">' in section
    assert "Halaman 2 dari 3" in section and "4–6 dari 7" in section
    assert f'<a href="{url}#{heading}" rel="prev">Sebelumnya</a>' in section
    assert f'<a href="{url}?{parameter}=3#{heading}" rel="next">Berikutnya</a>' in section
    assert (
        f'<a href="{url}?{parameter}=1#{heading}">' not in section
        and f'<a href="{url}#{heading}"><span class="visually-hidden">Halaman </span>1</a>'
        in section
    )
    # The services' links leave this list at its first page (one list at a time).
    services = _section(html, "services-heading")
    assert f'<a href="{url}?page=2#services-heading" rel="next">' in services
    assert parameter not in services
    assert re.search(rf"<title>Dinas Kesehatan · {label_id} · Halaman 2 ", html)

    english = client.get("/en" + url, {parameter: "3"}).content.decode()
    section = _section(english, heading)
    assert f'aria-label="Pages: {label_en}"' in section
    assert "Page 3 of 3" in section and "7–7 of 7" in section
    assert f'<a href="/en{url}?{parameter}=2#{heading}" rel="prev">Previous</a>' in section
    assert 'rel="next"' not in section
    assert re.search(rf"<title>Dinas Kesehatan · {label_en} · Page 3 ", english)


@pytest.mark.parametrize("parameter", ["units_page", "charters_page"])
def test_canonical_and_prev_next_links_name_the_list_being_paged(client, health_office, parameter):
    url = health_office.get_absolute_url()
    base = f"http://testserver{url}"
    head = client.get(url, {parameter: "2"}).content.decode().split("</head>")[0]
    assert f'<link rel="canonical" href="{base}?{parameter}=2">' in head
    assert f'<link rel="prev" href="{base}">' in head
    assert f'<link rel="next" href="{base}?{parameter}=3">' in head
    assert f'hreflang="en" href="http://testserver/en{url}?{parameter}=2"' in head
    # Its first page is the agency page itself, whose head names the services' pages.
    head = client.get(url, {parameter: "1"}).content.decode().split("</head>")[0]
    assert f'<link rel="canonical" href="{base}">' in head
    assert f'<link rel="next" href="{base}?page=2">' in head
    last = client.get(url, {parameter: "3"}).content.decode().split("</head>")[0]
    assert 'rel="next"' not in last and f'<link rel="prev" href="{base}?{parameter}=2">' in last


@pytest.mark.parametrize("parameter", ["units_page", "charters_page"])
@pytest.mark.parametrize("raw", ["4", "0", "-1", "02", "1.0", "abc", " 2", "9999999", "١"])
def test_a_unit_or_charter_page_out_of_range_or_not_a_plain_number_is_404(
    client, health_office, parameter, raw
):
    assert client.get(health_office.get_absolute_url(), {parameter: raw}).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "page=2&units_page=2",
        "units_page=1&charters_page=1",
        "page=1&charters_page=2",
        "units_page=2&units_page=2",
    ],
)
def test_an_address_naming_two_lists_or_one_twice_is_404(client, health_office, query):
    assert client.get(f"{health_office.get_absolute_url()}?{query}").status_code == 404


@pytest.mark.parametrize("n", [4, 10])
def test_unit_and_charter_pages_cost_the_same_queries_whatever_the_lists_length(
    client, national, django_assert_num_queries, n
):
    agency = _health_office(n)
    url = agency.get_absolute_url()
    client.get(url)  # the figures, then cached (as above)
    last = str(-(-n // PAGE_SIZE))
    for parameter in ("page", "units_page", "charters_page"):
        for number in ("1", "2", last):
            # As the services' pages above, and the page's charters: 13 whichever list is
            # paged, and however long.
            with django_assert_num_queries(13):
                assert client.get(url, {parameter: number}).status_code == 200


@pytest.mark.usefixtures("_page_cache_on")
@pytest.mark.parametrize(("parameter", "names"), LISTS)
def test_the_page_cache_keys_each_unit_and_charter_page_apart(
    client, health_office, parameter, names
):
    url = health_office.get_absolute_url()
    assert client.get(url)[STATUS_HEADER] == "miss"
    second = client.get(url, {parameter: "2"})
    third = client.get(url, {parameter: "3"})
    assert [second[STATUS_HEADER], third[STATUS_HEADER]] == ["miss", "miss"]
    for number, expected in (("2", second), ("3", third)):
        again = client.get(url, {parameter: number})
        assert again[STATUS_HEADER] == "hit" and again.content == expected.content
    assert names(client.get(url, {parameter: "3"}).content.decode()) == ["Puskesmas 06"]
    assert client.get(url)[STATUS_HEADER] == "hit"
    # Junk, a page past the end, two lists at once: 404, never kept.
    for query in (f"{parameter}=abc", f"{parameter}=4", f"page=2&{parameter}=2"):
        for _ in range(2):
            bad = client.get(f"{url}?{query}")
            assert bad.status_code == 404 and STATUS_HEADER not in bad


def test_the_page_cache_key_holds_the_agency_pages_list_parameters(rf, settings):
    from django.utils import translation

    from public_site.views.public import AGENCY_PAGE_PARAMETERS

    settings.PUBLIC_PAGE_FIGURES_SECONDS = 86400  # one figures period for all the keys
    translation.activate("id")
    keys = {
        query: page_cache._page_key(rf.get(f"/agencies/dinkes/?{query}"), AGENCY_PAGE_PARAMETERS)
        for query in ("", "page=2", "units_page=2", "charters_page=2", "units_page=3")
    }
    assert len(set(keys.values())) == len(keys)
    # An empty value is the first page, and its entry.
    empty = rf.get("/agencies/dinkes/?units_page=")
    assert page_cache._page_key(empty, AGENCY_PAGE_PARAMETERS) == keys[""]


# --- The league of agencies ---------------------------------------------------------------


@pytest.fixture
def seven_agencies(national: Any) -> list[Any]:
    """Seven city agencies, ranked by their number of published standards (7 down to 1)."""
    agencies = []
    for i in range(7):
        agency = factories.AgencyFactory(name=f"Dinas {i:02d}", level="city")
        unit = factories.UnitFactory(agency=agency)
        for j in range(7 - i):
            publish_service(agency, unit, f"Layanan {i:02d}-{j:02d}")
        agencies.append(agency)
    factories.AgencyFactory(name="Dinas Provinsi", level="province")
    return agencies


def _ranked(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<td>(\d+)</td>\s*<th scope="row"><a href="[^"]+">(Dinas \d\d)</a>', html)


def test_the_league_pages_keep_the_ranking_and_the_filters(client, seven_agencies):
    url = "/agencies/"
    second = client.get(url, {"level": "city", "page": "2"})
    assert second.status_code == 200
    html = second.content.decode()
    assert _ranked(html) == [("4", "Dinas 03"), ("5", "Dinas 04"), ("6", "Dinas 05")]
    assert f'<a href="{url}?level=city#league-caption" rel="prev">' in html
    assert f'<a href="{url}?level=city&amp;page=3#league-caption" rel="next">' in html
    assert "Halaman 2 dari 3" in html
    assert _ranked(client.get(url, {"level": "city", "page": "3"}).content.decode()) == [
        ("7", "Dinas 06")
    ]
    # Without the filter, the province agency (no standard) comes last, on page 3.
    assert "Dinas Provinsi" in client.get(url, {"page": "3"}).content.decode()
    for raw in ("4", "0", "x"):
        assert client.get(url, {"level": "city", "page": raw}).status_code == 404


def test_league_query_counts_per_page_are_constant(
    client, seven_agencies, django_assert_num_queries
):
    client.get("/agencies/")  # the on-time rates and opinions, then cached
    for number in ("1", "2", "3"):
        # agencies with their figures; the regions for the filter.
        with django_assert_num_queries(2):
            assert client.get("/agencies/", {"page": number}).status_code == 200
