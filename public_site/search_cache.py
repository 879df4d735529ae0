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

Rendering a first-time address is then mostly Python around those, so this process keeps
copies too, trusted while the `all` token is (PUBLIC_PAGE_LOCAL_SECONDS: read from the shared
cache on every request when 0, as in the test suite; a change shows at once in the process
that made it and within that many seconds elsewhere, as for the page cache itself):

- the agency rows, under the token they were read with (no shared-cache read while the
  token is trusted here);
- the search form's filter block rendered (`filter_block_cached`), per token, language and
  the filter values as given: the same block for every search without filters whatever its
  words, so a first-time query finds it ready.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from core.db_router import primary_reads
from core.lru import BoundedLRU
from core.page_cache import ALL, _generation_key, generations_from, trusted_generations
from services.models import Service
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
    at: float = 0.0  # when (time.time()): the rendered list expires with the results


@dataclass(frozen=True)
class _Html:
    """The results list rendered, with what the page says around it: a page served from it
    does not unpickle the services it lists (`_KeptServices`)."""

    generation: str  # the `all` token of the results it shows
    html: str
    number: int
    count: int
    more: bool
    capped: bool
    size: int  # how many services the list shows


class _KeptServices(Sequence[Service]):
    """The services of a page served from its rendered list: their number is known, the
    services themselves are read from the results cache (else searched) only if something
    reads them (a test does; the page shows the rendered list)."""

    def __init__(self, size: int, load: Callable[[], Sequence[Service]]) -> None:
        self._size = size
        self._load = load
        self._items: Sequence[Service] | None = None

    def _services(self) -> Sequence[Service]:
        if self._items is None:
            self._items = self._load()
        return self._items

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    @overload
    def __getitem__(self, index: int) -> Service: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Service]: ...

    def __getitem__(self, index: int | slice) -> Service | Sequence[Service]:
        return self._services()[index]

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services())


@dataclass(frozen=True)
class _Agencies:
    generation: str
    rows: list[AgencyRow]


class _Kept:
    """This process's copies: the agency rows and rendered filter blocks (see above)."""

    MAX_BLOCKS = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.agencies: _Agencies | None = None
        self.blocks: BoundedLRU[str] = BoundedLRU(self.MAX_BLOCKS)


_kept = _Kept()


def agency_rows_cached() -> tuple[str, list[AgencyRow]]:
    """The `all` token and the agency filter's rows (`agency_filter_rows`) read under it:
    this process's copy while the token is trusted here, else the shared cache's if current,
    else read from the primary."""
    generation_key = _generation_key(ALL)
    trusted = trusted_generations([generation_key])
    if trusted is not None:
        (token,) = trusted
        kept = _kept.agencies
        if kept is not None and kept.generation == token:
            return token, kept.rows
        entry = cache.get(AGENCIES_KEY)
    else:
        found = cache.get_many([generation_key, AGENCIES_KEY])
        (token,) = generations_from(found, [generation_key])
        entry = found.get(AGENCIES_KEY)
    if not (isinstance(entry, _Agencies) and entry.generation == token):
        with primary_reads():
            rows = agency_filter_rows()
        entry = _Agencies(generation=token, rows=rows)
        cache.set(AGENCIES_KEY, entry, AGENCIES_SECONDS)
    _kept.agencies = entry
    return token, entry.rows


def filter_block_cached(*, token: str, values: object, render: Callable[[], str]) -> str:
    """The search form's filter block: `render()` once per `all` token, language and filter
    `values` (what the block shows: the values given, as given) in this process."""
    text = json.dumps([token, translation.get_language(), values], sort_keys=True, default=str)
    key = hashlib.sha256(text.encode()).hexdigest()
    html = _kept.blocks.get(key)
    if html is None:
        html = render()
        _kept.blocks.put(key, html)
    return html


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
    """The page, its rendered list (with `render`) and whether the results were cached.

    With `render`, the rendered list is asked for first (one round trip on a hit, nothing
    unpickled but the HTML); the results themselves only when it is missing.
    """
    generation_key = _generation_key(ALL)
    key = results_key(filters=filters, number=number)
    html_key = f"{key}:html:{translation.get_language()}"
    first = html_key if render else key
    trusted = trusted_generations([generation_key])
    if trusted is not None:
        (token,) = trusted
        found = {first: cache.get(first)}
    else:
        found = cache.get_many([generation_key, first])
        (token,) = generations_from(found, [generation_key])
    kept = found.get(html_key)
    if render is not None and isinstance(kept, _Html) and kept.generation == token:
        services = _KeptServices(kept.size, lambda: _services(filters, number, key, token))
        page = SearchPage(
            services=services,
            number=kept.number,
            count=kept.count,
            more=kept.more,
            capped=kept.capped,
        )
        return page, kept.html, "hit"
    entry = found.get(key) if render is None else cache.get(key)
    outcome: Outcome
    if isinstance(entry, _Entry) and entry.generation == token:
        outcome = "hit"
    else:
        with primary_reads():
            page = service_search_page(filters=filters, number=number)
        entry = _Entry(generation=token, page=page, at=time.time())
        cache.set(key, entry, results_seconds())
        outcome = "miss"
    page = entry.page
    if render is None:
        return page, None, outcome
    html = render(page)
    # Expires with the results it shows: never older than RESULTS_SECONDS.
    remaining = results_seconds() - (time.time() - entry.at)
    if remaining >= 1:
        kept = _Html(
            generation=token,
            html=html,
            number=page.number,
            count=page.count,
            more=page.more,
            capped=page.capped,
            size=len(page.services),
        )
        cache.set(html_key, kept, int(remaining))
    return page, html, outcome


def _services(
    filters: SearchFilters, number: int | str | None, key: str, token: str
) -> Sequence[Service]:
    entry = cache.get(key)
    if isinstance(entry, _Entry) and entry.generation == token:
        return entry.page.services
    with primary_reads():
        return service_search_page(filters=filters, number=number).services
