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
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.cache import cache

from core.db_router import primary_reads
from core.page_cache import ALL, _generation_key, _initialise
from services.search import (
    SearchFilters,
    SearchPage,
    normalise_query,
    page_number,
    service_search_page,
)

RESULTS_PREFIX = "search:results:v1"
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


def search_page_cached(
    *, filters: SearchFilters, number: int | str | None
) -> tuple[SearchPage, Outcome]:
    """The search's page from the shared cache if current, else computed and kept.

    One cache round trip (the `all` token and the entry together) on a hit.
    """
    generation_key = _generation_key(ALL)
    key = results_key(filters=filters, number=number)
    found = cache.get_many([generation_key, key])
    if generation_key not in found:
        found.update(_initialise([generation_key]))
    token = str(found.get(generation_key, ""))
    entry = found.get(key)
    if isinstance(entry, _Entry) and entry.generation == token:
        return entry.page, "hit"
    with primary_reads():
        page = service_search_page(filters=filters, number=number)
    cache.set(key, _Entry(generation=token, page=page), results_seconds())
    return page, "miss"
