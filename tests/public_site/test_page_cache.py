"""The shared cache of anonymous public pages (core.page_cache, public_site.invalidation)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from csp.constants import NONCE
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from agencies.calendars import calendar_day_set
from agencies.models import CalendarException
from charter.services import charter_publish
from core import page_cache
from core.page_cache import NONCE_PLACEHOLDER, STATUS_HEADER, public_page
from tests import factories
from tests.accounts.conftest import login_verified
from tests.registry import publish_service, republish


@pytest.fixture(autouse=True)
def _page_cache_on(settings: Any) -> Iterator[None]:
    settings.PUBLIC_PAGE_CACHE = True
    page_cache._local.forget()  # the shared cache is emptied per test; so is this process's copy
    yield
    page_cache._local.forget()


@pytest.fixture
def service_a(national: Any, unit_a: Any) -> Any:
    service, _version = publish_service(unit_a.agency, unit_a, "Penerbitan KTP-el")
    return service


@pytest.fixture
def service_b(national: Any, unit_b: Any) -> Any:
    service, _version = publish_service(unit_b.agency, unit_b, "Izin Usaha Mikro")
    return service


def _status(response: Any) -> str | None:
    return response.headers.get(STATUS_HEADER)


def test_the_second_anonymous_request_is_served_from_the_cache_without_queries(client, service_a):
    url = service_a.get_absolute_url()
    first = client.get(url)
    assert first.status_code == 200 and _status(first) == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert len(queries) == 0
    assert second.status_code == 200 and _status(second) == "hit"
    assert second.content == first.content
    assert "Penerbitan KTP-el" in second.content.decode()


@pytest.mark.parametrize("method", ["get", "head"])
def test_every_listed_page_is_cached(client, service_a, unit_a, method):
    charter = factories.CharterFactory.create(unit=unit_a, services=[service_a])
    charter_publish(charter=charter)
    agency = unit_a.agency
    urls = [
        "/",
        "/en/",
        "/agencies/",
        agency.get_absolute_url(),
        unit_a.get_absolute_url(),
        service_a.get_absolute_url(),
        charter.get_absolute_url(),
        "/mpp/",
        "/life-events/",
    ]
    for url in urls:
        assert _status(getattr(client, method)(url)) == "miss", url
        again = getattr(client, method)(url)
        assert again.status_code == 200, url
        assert _status(again) == "hit", url


def test_a_cached_page_sets_no_cookie_and_embeds_no_csrf_token(client, service_a):
    url = service_a.get_absolute_url()
    for expected in ("miss", "hit"):
        response = client.get(url)
        assert _status(response) == expected
        assert not response.cookies
        assert "Set-Cookie" not in response.headers
        html = response.content.decode()
        assert "csrfmiddlewaretoken" not in html
        # The language switcher is a plain link to the same page in English.
        assert f'href="/en{url}" hreflang="en"' in html


def test_browsers_and_a_cdn_get_public_caching_an_etag_and_304(client, service_a):
    url = service_a.get_absolute_url()
    first = client.get(url)
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    assert "Cookie" in first["Vary"]
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(url)["ETag"] == etag
    with CaptureQueriesContext(connection) as queries:
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not not_modified.content
    assert len(queries) == 0
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_each_language_has_its_own_entry(client, service_a):
    url = service_a.get_absolute_url()
    indonesian = client.get(url)
    english = client.get(f"/en{url}")
    assert _status(english) == "miss"
    assert 'lang="id"' in indonesian.content.decode()
    assert 'lang="en"' in english.content.decode()
    assert 'lang="en"' in client.get(f"/en{url}").content.decode()
    assert 'lang="id"' in client.get(url).content.decode()


def test_a_new_published_version_shows_at_once(client, service_a):
    url = service_a.get_absolute_url()
    assert "Kartu identitas generasi baru" not in client.get(url).content.decode()
    republish(service_a.versions.get(), product="Kartu identitas generasi baru")
    response = client.get(url)
    assert _status(response) == "miss"
    assert "Kartu identitas generasi baru" in response.content.decode()


def test_a_published_charter_shows_at_once_on_the_unit_and_service_pages(client, service_a, unit_a):
    charter = factories.CharterFactory.create(
        unit=unit_a, services=[service_a], pledge="Kami berjanji melayani dengan cepat."
    )
    pages = [service_a.get_absolute_url(), unit_a.get_absolute_url()]
    for url in pages:
        client.get(url)
        assert "Kami berjanji melayani dengan cepat." not in client.get(url).content.decode()
    charter_publish(charter=charter)
    for url in pages:
        response = client.get(url)
        assert _status(response) == "miss", url
        assert "Kami berjanji melayani dengan cepat." in response.content.decode(), url


def test_a_calendar_change_rebuilds_every_page_and_an_agency_change_only_its_own(
    client, service_a, service_b, national, superuser
):
    a, b = service_a.get_absolute_url(), service_b.get_absolute_url()
    client.get(a), client.get(b)
    assert _status(client.get(a)) == _status(client.get(b)) == "hit"
    # Agency A publishes: agency A's pages and the lists are rebuilt, agency B's are not.
    client.get("/")
    republish(service_a.versions.get(), product="Versi kedua")
    assert _status(client.get(a)) == "miss"
    assert _status(client.get(b)) == "hit"
    assert _status(client.get("/")) == "miss"
    # A holiday on the national calendar moves due dates everywhere.
    calendar_day_set(
        calendar=national,
        date=dt.date(2026, 12, 28),
        kind=CalendarException.Kind.HOLIDAY,
        name="Libur daerah",
        acting_user=superuser,
    )
    assert _status(client.get(a)) == _status(client.get(b)) == "miss"


def test_logged_in_staff_always_see_the_live_page(client, service_a, editor_a):
    url = service_a.get_absolute_url()
    client.get(url)
    assert _status(client.get(url)) == "hit"
    login_verified(client, editor_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert len(queries) > 0
    assert _status(response) is None
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "ETag" not in response.headers
    # The live page: the staff navigation, and forms with this session's CSRF token.
    assert "Area petugas" in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_only_the_pages_own_query_parameters_make_an_entry(client, service_a):
    assert _status(client.get("/agencies/?level=city")) == "miss"
    assert _status(client.get("/agencies/?level=city")) == "hit"
    assert _status(client.get("/agencies/?level=province")) == "miss"
    # A parameter the page does not read: rendered live, never kept.
    assert _status(client.get("/agencies/?utm_source=x")) is None
    assert _status(client.get("/agencies/?utm_source=x")) is None


def test_figures_are_refreshed_each_period_and_the_page_says_as_of_when(
    client, service_a, settings
):
    settings.PUBLIC_PAGE_FIGURES_SECONDS = 1
    url = service_a.get_absolute_url()
    time.sleep(1 - time.time() % 1)  # the start of a period
    first = client.get(url)
    assert _status(first) == "miss"
    assert "performance-as-of" in first.content.decode()
    assert "Angka per " in first.content.decode()
    time.sleep(1.05)
    assert _status(client.get(url)) == "miss"


def test_errors_and_not_found_pages_are_not_kept(client, agency_a):
    missing = f"{agency_a.get_absolute_url()}services/tidak-ada/"
    assert client.get(missing).status_code == 404
    assert _status(client.get(missing)) is None


# --- The CSP nonce ----------------------------------------------------------------------

NONCE_PAGE = '<script nonce="{{ request.csp_nonce }}">document.body.dataset.ran = "yes";</script>'


@csp_update({"script-src": [NONCE]})
@public_page()
def _nonce_view(request: HttpRequest) -> HttpResponse:
    html = engines["django"].from_string(NONCE_PAGE).render({"request": request})
    return HttpResponse(html)


def _through_csp(request: HttpRequest) -> HttpResponse:
    response = CSPMiddleware(_nonce_view)(request)
    assert isinstance(response, HttpResponse)
    return response


def test_a_page_with_a_csp_nonce_gets_a_fresh_nonce_in_body_and_header_each_time(db):
    factory = RequestFactory()
    responses = [_through_csp(factory.get("/nonce/")) for _ in range(2)]
    assert [_status(r) for r in responses] == ["miss", "hit"]
    nonces = []
    for response in responses:
        header = response["Content-Security-Policy"]
        nonce = header.split("'nonce-", 1)[1].split("'", 1)[0]
        assert f'nonce="{nonce}"' in response.content.decode()
        assert NONCE_PLACEHOLDER not in response.content.decode()
        # Body and header must agree per response: no shared caching of such a page.
        assert "private" in response["Cache-Control"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert page_cache.enabled()


# --- The process-local layer -------------------------------------------------------------


def test_with_a_local_layer_a_change_still_shows_at_once_in_the_same_process(
    client, service_a, service_b, settings
):
    settings.PUBLIC_PAGE_LOCAL_SECONDS = 60
    a, b = service_a.get_absolute_url(), service_b.get_absolute_url()
    client.get(a), client.get(b)
    with CaptureQueriesContext(connection) as queries:
        assert _status(client.get(a)) == "hit"
    assert len(queries) == 0
    republish(service_a.versions.get(), product="Versi lokal kedua")
    response = client.get(a)
    assert _status(response) == "miss"
    assert "Versi lokal kedua" in response.content.decode()
    assert _status(client.get(a)) == "hit"


def test_with_a_local_layer_another_process_sees_a_change_within_its_seconds(
    client, service_a, settings
):
    settings.PUBLIC_PAGE_LOCAL_SECONDS = 0.5
    url = service_a.get_absolute_url()
    client.get(url)
    assert _status(client.get(url)) == "hit"
    # Another process replaces the generation in the shared cache (this one's copy stays).
    key = page_cache._generation_key(page_cache.agency_generation(service_a.agency.slug))
    cache.set(key, "from-another-process", timeout=None)
    time.sleep(0.6)
    assert _status(client.get(url)) == "miss"


# --- Single flight ------------------------------------------------------------------------------

_renders: list[str] = []


@public_page()
def _slow_view(request: HttpRequest) -> HttpResponse:
    _renders.append(request.path)
    time.sleep(0.3)  # long enough for the other request to arrive while this one renders
    return HttpResponse(f"<p>rendered {len(_renders)}</p>")


def test_of_two_concurrent_misses_only_one_renders_the_page(db, monkeypatch):
    _renders.clear()
    locks: set[str] = set()
    lock_key = page_cache._lock_key

    def recording(*args: Any) -> str:
        locks.add(lock_key(*args))
        return lock_key(*args)

    monkeypatch.setattr(page_cache, "_lock_key", recording)
    factory = RequestFactory()
    results: dict[str, HttpResponse] = {}

    def get(name: str) -> None:
        results[name] = _slow_view(factory.get("/single-flight/"))

    first = threading.Thread(target=get, args=("first",))
    first.start()
    time.sleep(0.05)  # the first has taken the lock and is rendering
    get("second")
    first.join()
    assert _renders == ["/single-flight/"]
    assert _status(results["first"]) == "miss"
    assert _status(results["second"]) == "wait"  # served what the first one rendered
    assert results["second"].content == results["first"].content == b"<p>rendered 1</p>"
    assert _status(_slow_view(factory.get("/single-flight/"))) == "hit"
    assert len(locks) == 1 and cache.get(locks.pop()) is None  # the lock was released


def test_a_waiter_renders_by_itself_when_the_renderer_keeps_nothing(db, settings):
    """The lock is taken (by a renderer whose page cannot be kept, or that died): a waiter
    gives up after PUBLIC_PAGE_BUILD_WAIT_SECONDS and renders; never stuck, never an error."""
    _renders.clear()
    settings.PUBLIC_PAGE_BUILD_WAIT_SECONDS = 0.2
    factory = RequestFactory()
    request = factory.get("/single-flight-stuck/")
    generations, _ = page_cache._lookup(
        [page_cache._generation_key(page_cache.ALL)], page_cache._page_key(request, ())
    )
    lock = page_cache._lock_key(page_cache._page_key(request, ()), generations)
    assert cache.add(lock, "someone else", 30)
    started = time.monotonic()
    response = _slow_view(request)
    assert response.status_code == 200 and _status(response) == "miss-waited"
    assert _renders == ["/single-flight-stuck/"]
    assert 0.2 <= time.monotonic() - started < 5
    assert cache.get(lock) == "someone else"  # not another renderer's lock to release


def _period_key(request: HttpRequest, generations: tuple[str, ...]) -> str:
    return page_cache._lock_key(page_cache._page_key(request, ()), generations)


def test_past_its_period_a_page_is_served_stale_only_while_another_request_renders_it(
    db, monkeypatch
):
    _renders.clear()
    factory = RequestFactory()
    now = [1_000_000.0 * page_cache.figures_seconds()]  # the start of a figures period
    monkeypatch.setattr(page_cache.time, "time", lambda: now[0])
    first = _slow_view(factory.get("/single-flight-stale/"))
    assert _status(first) == "miss" and first.content == b"<p>rendered 1</p>"
    now[0] += page_cache.figures_seconds()  # the next period: the figures are to be refreshed
    request = factory.get("/single-flight-stale/")
    generations, page = page_cache._lookup(
        [page_cache._generation_key(page_cache.ALL)], page_cache._page_key(request, ())
    )
    assert page is None
    lock = _period_key(request, generations)
    assert cache.add(lock, "another request, rendering", 30)
    stale = _slow_view(request)  # not kept waiting: the last period's page meanwhile
    assert _status(stale) == "stale" and stale.content == b"<p>rendered 1</p>"
    assert _renders == ["/single-flight-stale/"]
    cache.delete(lock)
    fresh = _slow_view(factory.get("/single-flight-stale/"))
    assert _status(fresh) == "miss" and fresh.content == b"<p>rendered 2</p>"


def test_after_a_change_the_last_periods_page_is_never_served(db, monkeypatch, settings):
    _renders.clear()
    settings.PUBLIC_PAGE_BUILD_WAIT_SECONDS = 0.2
    factory = RequestFactory()
    now = [1_000_000.0 * page_cache.figures_seconds()]
    monkeypatch.setattr(page_cache.time, "time", lambda: now[0])
    _slow_view(factory.get("/single-flight-changed/"))
    now[0] += page_cache.figures_seconds()
    page_cache.page_generations_bump([page_cache.SHARED])  # e.g. a publish
    request = factory.get("/single-flight-changed/")
    generations, _ = page_cache._lookup(
        [page_cache._generation_key(page_cache.ALL)], page_cache._page_key(request, ())
    )
    assert cache.add(_period_key(request, generations), "another request, rendering", 30)
    response = _slow_view(request)
    assert _status(response) == "miss-waited" and response.content == b"<p>rendered 2</p>"
