"""Pagination of the public lists that grow with the data (issue 17): the agency's, the unit's
and the charter's services, and the league of agencies. Page links in Bahasa Indonesia and
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
        # agency; units; the services' count; charters; figures; the page's services, their
        # versions and cost items; the Ombudsman's findings and records (3).
        with django_assert_num_queries(11):
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
