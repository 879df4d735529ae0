"""Search results cached per normalised query, and the estimated count (issue 17)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import page_cache
from public_site import search_cache
from public_site.search_cache import results_key, search_page_cached
from services import search
from services.models import Service
from services.search import SearchFilters, SearchPage, service_search, service_search_page
from tests import factories
from tests.registry import publish_service

URL = "/search/"


@pytest.fixture(autouse=True)
def _caches_on(settings: Any) -> Iterator[None]:
    settings.PUBLIC_PAGE_CACHE = True
    page_cache._local.forget()
    yield
    page_cache._local.forget()


def _services_queries(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read services (the form's list of agencies is not one)."""
    return [q["sql"] for q in queries.captured_queries if "services_service" in q["sql"]]


def _names(response: Any) -> list[str]:
    return [s.name for s in response.context["services"]]


# --- Normalisation -----------------------------------------------------------------------


def test_the_key_ignores_case_accents_spaces_and_the_page_given_as_text():
    base = results_key(filters=SearchFilters(query="ktp el"), number=None)
    for query in ("KTP el", "  ktp   EL ", "ktp\tel", "ktp él"):
        assert results_key(filters=SearchFilters(query=query), number=None) == base, query
    assert results_key(filters=SearchFilters(query="ktp el"), number="1") == base
    assert results_key(filters=SearchFilters(query="ktp el"), number="zz") == base
    assert results_key(filters=SearchFilters(query="ktp el"), number=" 1 ") == base


def test_the_key_changes_with_the_words_the_filters_and_the_page():
    base = results_key(filters=SearchFilters(query="ktp"), number=1)
    others = [
        results_key(filters=SearchFilters(query="kk"), number=1),
        results_key(filters=SearchFilters(query="ktp"), number=2),
        results_key(filters=SearchFilters(query="ktp", free_only=True), number=1),
        results_key(filters=SearchFilters(query="ktp", max_days=5), number=1),
        results_key(filters=SearchFilters(query="ktp", agency="a"), number=1),
        results_key(filters=SearchFilters(query="ktp", region="a"), number=1),
        results_key(filters=SearchFilters(query="ktp", category="kependudukan"), number=1),
        results_key(filters=SearchFilters(query="ktp", channel="online"), number=1),
        results_key(filters=SearchFilters(query="ktp", facility="ramp"), number=1),
    ]
    assert len({base, *others}) == len(others) + 1


def test_variants_of_one_search_share_its_results(client, agency_a, unit_a):
    publish_service(agency_a, unit_a, "Izin Apotek", keywords="farmasi")
    first = client.get(URL, {"q": "izin APOTEK", "free": ""})
    assert _names(first) == ["Izin Apotek"]
    # Another case, spacing, parameter order and an unknown parameter: other addresses (the
    # page cache renders them), the same results (no query reads services).
    for params in (
        {"q": "  Izin   apotek "},
        {"free": "", "q": "izin apotek"},
        {"utm_source": "x", "q": "IZIN APOTEK"},
        {"q": "izin apotek", "page": "1"},
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params)
        assert response.status_code == 200
        assert _names(response) == ["Izin Apotek"], params
        assert _services_queries(queries) == [], params


# --- Hit, miss, expiry, invalidation -------------------------------------------------------


def test_miss_then_hit(agency_a, unit_a):
    publish_service(agency_a, unit_a, "Izin Apotek")
    filters = SearchFilters(query="apotek")
    page, outcome = search_page_cached(filters=filters, number=None)
    assert outcome == "miss" and [s.name for s in page.services] == ["Izin Apotek"]
    with CaptureQueriesContext(connection) as queries:
        again, outcome = search_page_cached(filters=SearchFilters(query="APOTEK "), number="1")
    assert outcome == "hit" and len(queries) == 0
    assert [s.name for s in again.services] == ["Izin Apotek"]
    # The cached services carry what the results list shows: no query to render them.
    with CaptureQueriesContext(connection) as queries:
        service = again.services[0]
        assert service.agency.name
        assert service.published[0].processing_time_value is not None  # type: ignore[attr-defined]
    assert len(queries) == 0


def test_results_expire_after_their_seconds(settings, agency_a, unit_a):
    settings.SEARCH_RESULTS_SECONDS = 1
    publish_service(agency_a, unit_a, "Izin Apotek")
    filters = SearchFilters(query="apotek")
    assert search_page_cached(filters=filters, number=None)[1] == "miss"
    assert search_page_cached(filters=filters, number=None)[1] == "hit"
    time.sleep(2.1)
    assert search_page_cached(filters=filters, number=None)[1] == "miss"


def test_a_publish_is_visible_to_the_next_search_at_once(client, agency_a, unit_a):
    publish_service(agency_a, unit_a, "Izin Apotek")
    assert _names(client.get(URL, {"q": "apotek"})) == ["Izin Apotek"]
    assert _names(client.get(URL, {"q": "Apotek"})) == ["Izin Apotek"]  # from the results cache
    publish_service(agency_a, unit_a, "Izin Apotek Rakyat")
    for query in ("apotek", "Apotek", "APOTEK"):  # both cached variants, and a new one
        assert sorted(_names(client.get(URL, {"q": query}))) == [
            "Izin Apotek",
            "Izin Apotek Rakyat",
        ], query


def test_staff_see_live_results(client, agency_a, unit_a):
    service, _version = publish_service(agency_a, unit_a, "Izin Apotek")
    assert _names(client.get(URL, {"q": "apotek"})) == ["Izin Apotek"]
    # A change that bumps no generation (a bulk UPDATE sends no signal): the anonymous
    # visitor's results are the cached ones; staff (a session cookie) see the database.
    Service.objects.filter(pk=service.pk).update(name="Izin Apotek Baru")
    assert _names(client.get(URL, {"q": "APOTEK"})) == ["Izin Apotek"]
    client.cookies["sessionid"] = "staff-session"
    live = client.get(URL, {"q": "APOTEK"})
    assert _names(live) == ["Izin Apotek Baru"]
    assert "no-store" in live["Cache-Control"]


def test_nothing_is_cached_when_the_page_cache_is_off(settings, client, agency_a, unit_a):
    settings.PUBLIC_PAGE_CACHE = False
    publish_service(agency_a, unit_a, "Izin Apotek")
    client.get(URL, {"q": "apotek"})
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {"q": "Apotek"})
    assert _services_queries(queries)


# --- The estimated count ----------------------------------------------------------------------


def _izin(agency: Any, unit: Any, n: int) -> None:
    for i in range(n):
        publish_service(agency, unit, f"Izin Nomor {i:02d}")


@pytest.mark.parametrize(
    ("services", "count", "more"),
    [(4, 4, False), (5, 5, False), (6, 5, True), (9, 5, True)],
)
def test_the_count_stops_after_the_limit(monkeypatch, agency_a, unit_a, services, count, more):
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    _izin(agency_a, unit_a, services)
    for filters in (SearchFilters(), SearchFilters(query="izin")):
        with CaptureQueriesContext(connection) as queries:
            page = service_search_page(filters=filters, number=None)
        assert (page.count, page.more) == (count, more), filters
        assert len(page.services) == count
        # Counted with LIMIT COUNT_LIMIT + 1, never over every match.
        assert "LIMIT 6" in queries.captured_queries[0]["sql"], queries.captured_queries[0]


@pytest.mark.parametrize(
    ("services", "indonesian", "english"),
    [
        (5, "5 layanan ditemukan", "5 services found"),
        (6, "Lebih dari 5 layanan ditemukan", "More than 5 services found"),
    ],
)
def test_the_page_says_more_than_the_limit(
    client, monkeypatch, agency_a, unit_a, services, indonesian, english
):
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    _izin(agency_a, unit_a, services)
    html = client.get(URL, {"q": "izin"}).content.decode()
    assert indonesian in html
    assert ("Lebih dari" in html) is (services > 5)
    html = client.get("/en" + URL, {"q": "izin"}).content.decode()
    assert english in html
    assert ("More than" in html) is (services > 5)


def test_the_limit_is_written_with_the_language_grouping(client, monkeypatch, agency_a, unit_a):
    service, _version = publish_service(agency_a, unit_a, "Izin Apotek")
    full = SearchPage(services=[service], number=1, count=1000, more=True, capped=False)
    monkeypatch.setattr(search_cache, "service_search_page", lambda **kwargs: full)
    html = client.get(URL, {"q": "apotek"}).content.decode()
    assert "Lebih dari 1.000 layanan ditemukan" in html
    assert "Yang ditampilkan 1.000 layanan pertama" in html
    html = client.get("/en" + URL, {"q": "apotek"}).content.decode()
    assert "More than 1,000 services found" in html
    assert "The first 1,000 are listed" in html


def test_pages_beyond_the_limit_show_the_last_counted_page(monkeypatch, agency_a, unit_a):
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    _izin(agency_a, unit_a, 8)
    page = service_search_page(filters=SearchFilters(), number=99)
    assert page.number == 3 and page.more
    assert [s.name for s in page.services] == ["Izin Nomor 04"]


# --- Queries flat in data size; odd input ------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize("params", [{"q": "izin nomor"}, {}, {"q": "izin", "free": "on"}])
def test_queries_do_not_grow_with_the_services(
    client, django_assert_num_queries, agency_a, unit_a, count, params
):
    _izin(agency_a, unit_a, count)
    # agencies for the form (then cached); the bounded count; the page; its versions.
    with django_assert_num_queries(4):
        client.get(URL, params)
    # The same search in other words' case, a first-time address: the agencies, the results
    # and their rendered list all come from the cache.
    with django_assert_num_queries(0):
        client.get(URL, {**params, "q": params.get("q", "").upper(), "unknown": "1"})


ODD = [
    "x" * 5000,
    "ktp " * 300,
    "!!!",
    "'\"&|!:*()<>-",
    "---",
    "\u0301\u0301",
    "\u200b",
    "KTP\u00a0el",
    "كتب",
    "身份证",
    "🪪 ktp",
    "a:* | b",
    "%",
    "_",
    "\\",
    "ktp\x00",
]


@pytest.mark.parametrize("query", ODD)
def test_odd_input_never_breaks_the_page(client, settings, agency_a, unit_a, query):
    publish_service(agency_a, unit_a, "Penerbitan KTP-el")
    for cached in (True, False):
        settings.PUBLIC_PAGE_CACHE = cached
        for extra in ({}, {"page": "2"}, {"page": "-5"}, {"page": "9" * 5000}):
            response = client.get(URL, {"q": query, **extra})
            assert response.status_code == 200, (query, cached, extra)


def test_the_wordless_search_reads_services_in_name_order_from_an_index(agency_a, unit_a):
    # Without words every published service matches: the page must come off the
    # (name, id) index in order, not from sorting them all (sorts priced out here, as a
    # large registry prices them).
    _izin(agency_a, unit_a, 3)
    sql, params = service_search(filters=SearchFilters())[:20].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "service_name_id" in plan and "Sort" not in plan, plan


def test_a_result_loads_only_what_the_list_shows(agency_a, unit_a):
    _izin(agency_a, unit_a, 1)
    (service,) = service_search_page(filters=SearchFilters(query="izin"), number=1).services
    assert service.get_deferred_fields() >= {"summary", "search_vector", "keywords"}
    assert service.agency.get_deferred_fields() >= {"address", "email"}


# --- The agency filter and the rendered results list, kept under the same token ----------


def test_a_new_or_renamed_agency_shows_in_the_filter_at_once(client, agency_a, unit_a):
    assert '<option value="dinas-a">Dinas A</option>' in client.get(URL).content.decode()
    factories.AgencyFactory(name="Dinas Baru", slug="dinas-baru")
    html = client.get(URL, {"utm_source": "x"}).content.decode()
    assert '<option value="dinas-baru">Dinas Baru</option>' in html
    # ...and can be chosen at once (an unknown agency would be dropped as invalid).
    chosen = client.get(URL, {"agency": "dinas-baru"})
    assert chosen.context["filters"].agency == "dinas-baru"
    assert '<option value="dinas-baru" selected>Dinas Baru</option>' in chosen.content.decode()
    agency_a.name = "Dinas A Baru"
    agency_a.save()
    assert '<option value="dinas-a">Dinas A Baru</option>' in client.get(URL).content.decode()


def test_the_rendered_results_list_is_kept_per_language(client, agency_a, unit_a):
    publish_service(agency_a, unit_a, "Izin Apotek")
    indonesian = client.get(URL, {"q": "apotek"}).content.decode()
    assert 'href="/agencies/dinas-a/services/izin-apotek/"' in indonesian
    assert "<dd>Gratis</dd>" in indonesian
    with CaptureQueriesContext(connection) as queries:
        english = client.get("/en" + URL, {"q": "APOTEK"}).content.decode()
    assert _services_queries(queries) == []  # the results are shared; the list is not
    assert 'href="/en/agencies/dinas-a/services/izin-apotek/"' in english
    assert "<dd>Free</dd>" in english and "Gratis" not in english


def test_a_publish_shows_in_the_rendered_list_at_once(client, agency_a, unit_a):
    publish_service(agency_a, unit_a, "Izin Apotek")
    assert ">Izin Apotek Rakyat<" not in client.get(URL, {"q": "apotek"}).content.decode()
    publish_service(agency_a, unit_a, "Izin Apotek Rakyat")
    for query in ("apotek", "APOTEK"):
        assert ">Izin Apotek Rakyat<" in client.get(URL, {"q": query}).content.decode()


# --- The parts kept in this process: what the page shows is unchanged ----------------------


@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "apotek"},
        {"q": "APOTEK", "utm_source": "x"},
        {"q": "apotek", "agency": "dinas-a", "free": "on", "max_days": "5"},
        {"agency": "unknown", "max_days": "many", "region": "x", "category": "kependudukan"},
        {"q": "apotek", "page": "2"},
    ],
)
def test_the_kept_parts_show_what_the_live_page_shows(
    client, settings, agency_a, unit_a, prefix, params
):
    publish_service(agency_a, unit_a, "Izin Apotek")
    settings.PUBLIC_PAGE_CACHE = False  # everything rendered for this request
    live = client.get(prefix + URL, params).content.decode()
    assert "Izin Apotek" in live or "page" in params or "agency" in params
    settings.PUBLIC_PAGE_CACHE = True
    for _ in range(2):  # rendering the kept parts, then from them
        assert client.get(prefix + URL, params).content.decode() == live
    # Another first-time address with the same filters: the kept filter block, its own words.
    other = client.get(prefix + URL, {**params, "q": "zzz", "utm_source": "y"}).content.decode()
    settings.PUBLIC_PAGE_CACHE = False
    assert (
        client.get(prefix + URL, {**params, "q": "zzz", "utm_source": "y"}).content.decode()
        == other
    )


def test_the_filter_block_shows_each_visitors_choice(client, agency_a, agency_b, unit_a):
    chosen = client.get(URL, {"agency": agency_b.slug, "utm_source": "x"}).content.decode()
    assert f'<option value="{agency_b.slug}" selected>' in chosen
    plain = client.get(URL, {"utm_source": "x"}).content.decode()
    assert f'<option value="{agency_b.slug}">' in plain
    assert '<option value="" selected>Semua instansi</option>' in plain
    free = client.get(URL, {"free": "on", "utm_source": "x"}).content.decode()
    assert 'name="free" id="id_free" checked' in free
    assert "checked" not in client.get(URL, {"utm_source": "z"}).content.decode()


def test_with_a_local_copy_a_change_shows_in_this_process_at_once(settings, client, agency_a):
    settings.PUBLIC_PAGE_LOCAL_SECONDS = 60
    html = client.get(URL, {"utm_source": "x"}).content.decode()
    assert "Dinas Baru" not in html
    factories.AgencyFactory(name="Dinas Baru", slug="dinas-baru")
    html = client.get(URL, {"utm_source": "x"}).content.decode()
    assert '<option value="dinas-baru">Dinas Baru</option>' in html
    agency_a.name = "Dinas A Baru"
    agency_a.save()
    html = client.get("/en" + URL, {"utm_source": "x"}).content.decode()
    assert '<option value="dinas-a">Dinas A Baru</option>' in html
    assert "All agencies" in html


def test_with_a_local_copy_a_first_time_address_reads_the_shared_cache_once(
    monkeypatch, settings, client, agency_a, unit_a
):
    settings.PUBLIC_PAGE_LOCAL_SECONDS = 60
    publish_service(agency_a, unit_a, "Izin Apotek")
    client.get(URL, {"q": "apotek", "utm_source": "x"})  # the agencies, results, blocks kept
    reads: list[Any] = []
    real_get, real_get_many = search_cache.cache.get, search_cache.cache.get_many

    def get(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real_get(*args, **kwargs)

    def get_many(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real_get_many(*args, **kwargs)

    monkeypatch.setattr(search_cache.cache, "get", get)
    monkeypatch.setattr(search_cache.cache, "get_many", get_many)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"q": "APOTEK", "utm_source": "y"})
    assert len(queries) == 0
    assert len(reads) == 1, reads  # the results and their list; the token and agencies known
    assert ">Izin Apotek<" in response.content.decode()
