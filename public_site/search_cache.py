"""Search results cached briefly per normalised query (issue 17).

The page cache (core.page_cache) keeps a rendered search page per exact address: `?q=KTP`,
`?q=ktp%20` and `?utm_source=x&q=ktp` are three addresses (the last one, with a parameter
the page does not read, is never kept). Under it, the *results* of a search (the page's
services, the count and whether it was capped) are kept per normalised query:

- the words normalised as the search itself reads them (`normalise_query`: case, accents,
  runs of white space), the filters as the form cleaned them (an invalid value counts as
  not given), the page number as a number; parameter order and unknown parameters play no
  part;
- for RESULTS_SECONDS (default 60, `SEARCH_RESULTS_SECONDS`) in the shared cache;
- under the page cache's `all` generation: any publish, withdrawal, rename or charter change
  anywhere replaces it (public_site.invalidation), and an entry stored under an older token
  is never served, so a change is visible to the next search at once.

Anonymous visitors only (the view decides, as the page cache does): staff see live results.
Results are computed from the primary, never from a replica that may lag behind the token.

Two more things a first-time address (a page-cache miss) would otherwise rebuild on every
request, kept under the same `all` token:

- the agency filter's rows (`agency_rows_cached`): one option per agency, several hundred;
  a new or renamed agency replaces the token, so it shows at once;
- the results list rendered as HTML, per language, beside its results
  (`search_results_cached`): rendering twenty results cost more than the rest of the page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from core.db_router import primary_reads
from core.page_cache import ALL, _generation_key, _initialise
from services.search import (
    AgencyRow,
    SearchFilters,
    SearchPage,
    agency_filter_rows,
    normalise_query,
    page_number,
    service_search_page,
)

RESULTS_PREFIX = "search:results:v1"
AGENCIES_KEY = "search:agencies:v1"
# The agency rows are kept while their token is current (a change replaces the token, and
# an entry under an old one is never served): the timeout only frees unused memory.
AGENCIES_SECONDS = 24 * 60 * 60
DEFAULT_RESULTS_SECONDS = 60

Outcome = Literal["hit", "miss"]


def results_seconds() -> int:
    return int(getattr(settings, "SEARCH_RESULTS_SECONDS", DEFAULT_RESULTS_SECONDS))


def normalised_search(*, filters: SearchFilters, number: int | str | None) -> dict[str, object]:
    """What a search's results depend on, and nothing else."""
    return {
        "q": normalise_query(filters.query),
        "agency": filters.agency,
        "region": filters.region,
        "category": filters.category,
        "channel": filters.channel,
        "facility": filters.facility,
        "free": filters.free_only,
        "max_days": filters.max_days,
        "page": page_number(number),
    }


def results_key(*, filters: SearchFilters, number: int | str | None) -> str:
    text = json.dumps(normalised_search(filters=filters, number=number), sort_keys=True)
    return f"{RESULTS_PREFIX}:{hashlib.sha256(text.encode()).hexdigest()}"


@dataclass(frozen=True)
class _Entry:
    generation: str  # the `all` token the results were computed under
    page: SearchPage


@dataclass(frozen=True)
class _Html:
    generation: str  # the `all` token of the results it shows
    html: str


@dataclass(frozen=True)
class _Agencies:
    generation: str
    rows: list[AgencyRow]


def _token(found: dict[str, object], generation_key: str) -> str:
    if generation_key not in found:
        found.update(_initialise([generation_key]))
    return str(found.get(generation_key, ""))


def agency_rows_cached() -> list[AgencyRow]:
    """The agency filter's rows (`agency_filter_rows`) from the shared cache if current."""
    generation_key = _generation_key(ALL)
    found = cache.get_many([generation_key, AGENCIES_KEY])
    token = _token(found, generation_key)
    entry = found.get(AGENCIES_KEY)
    if isinstance(entry, _Agencies) and entry.generation == token:
        return entry.rows
    with primary_reads():
        rows = agency_filter_rows()
    cache.set(AGENCIES_KEY, _Agencies(generation=token, rows=rows), AGENCIES_SECONDS)
    return rows


def search_page_cached(
    *, filters: SearchFilters, number: int | str | None
) -> tuple[SearchPage, Outcome]:
    """The search's page from the shared cache if current, else computed and kept.

    One cache round trip (the `all` token and the entry together) on a hit.
    """
    page, _html, outcome = _cached(filters=filters, number=number, render=None)
    return page, outcome


def search_results_cached(
    *, filters: SearchFilters, number: int | str | None, render: Callable[[SearchPage], str]
) -> tuple[SearchPage, str, Outcome]:
    """As `search_page_cached`, with the results list rendered by `render` (in the active
    language), kept beside the results: one cache round trip when both are current."""
    page, html, outcome = _cached(filters=filters, number=number, render=render)
    assert html is not None
    return page, html, outcome


def _cached(
    *,
    filters: SearchFilters,
    number: int | str | None,
    render: Callable[[SearchPage], str] | None,
) -> tuple[SearchPage, str | None, Outcome]:
    generation_key = _generation_key(ALL)
    key = results_key(filters=filters, number=number)
    html_key = f"{key}:html:{translation.get_language()}"
    found = cache.get_many([generation_key, key, html_key] if render else [generation_key, key])
    token = _token(found, generation_key)
    entry = found.get(key)
    outcome: Outcome
    if isinstance(entry, _Entry) and entry.generation == token:
        page, outcome = entry.page, "hit"
    else:
        with primary_reads():
            page = service_search_page(filters=filters, number=number)
        cache.set(key, _Entry(generation=token, page=page), results_seconds())
        outcome = "miss"
    if render is None:
        return page, None, outcome
    kept = found.get(html_key)
    # Rendered from these very results: a recomputed page is rendered again.
    if outcome == "hit" and isinstance(kept, _Html) and kept.generation == token:
        return page, kept.html, outcome
    html = render(page)
    cache.set(html_key, _Html(generation=token, html=html), results_seconds())
    return page, html, outcome
