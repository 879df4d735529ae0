"""Cached public pages in a real browser: the map page's script still runs under the
Content-Security-Policy when the page comes from the cache, an inline script with a nonce
runs on every cached response, and the language link of a cached page works."""

from __future__ import annotations

from typing import Any

import pytest

from demo.locations import seed_locations
from demo.management.commands.seed_demo import seed_registry

pytestmark = pytest.mark.e2e

MALL = "/locations/mal-pelayanan-publik-kota-bandung/"


@pytest.fixture(autouse=True)
def _page_cache_on(settings: Any) -> None:
    settings.PUBLIC_PAGE_CACHE = True


def _csp_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return errors


def test_the_map_still_draws_on_a_cached_location_page(
    page, browser, live_server, transactional_db, settings
):
    # The key carries a figures period (300 s by default): a run that straddles a period's
    # end would see a second miss. One long period keeps "the second visitor hits" exact.
    settings.PUBLIC_PAGE_FIGURES_SECONDS = 86400
    seed_registry()
    seed_locations()
    errors = _csp_errors(page)
    response = page.goto(MALL)
    assert response is not None and response.headers.get("x-page-cache") == "miss"
    page.wait_for_selector(".location-map.location-map-on .leaflet-marker-icon")
    # Another visitor (the first one's browser keeps the page itself for max-age).
    other = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    try:
        errors += _csp_errors(other)
        response = other.goto(MALL)
        assert response is not None and response.status == 200
        assert response.headers.get("x-page-cache") == "hit"
        # Leaflet (our own static file) drew the map and its marker from the cached page.
        other.wait_for_selector(".location-map.location-map-on .leaflet-marker-icon")
        # A reload revalidates with the ETag: the map is drawn again.
        other.reload()
        other.wait_for_selector(".location-map.location-map-on .leaflet-marker-icon")
        other.get_by_role("link", name="English").click()
        other.wait_for_url(f"**/en{MALL}")
        assert other.locator("html").get_attribute("lang") == "en"
    finally:
        other.context.close()
    assert errors == []


def test_an_inline_script_with_a_nonce_runs_on_every_cached_response(
    page, settings, transactional_db
):
    settings.ROOT_URLCONF = "tests.e2e.page_cache_urls"
    errors = _csp_errors(page)
    nonces = []
    for expected in ("miss", "hit", "hit"):
        response = page.goto("/nonce-check/")
        assert response is not None and response.headers.get("x-page-cache") == expected
        assert page.locator("#ran").inner_text() == "ya"
        nonces.append(response.headers["content-security-policy"].split("'nonce-")[1])
    assert len(set(nonces)) == 3
    assert errors == []
