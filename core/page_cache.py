"""The shared cache of anonymous public pages.

A public page (home, service, agency, unit, location, life event, league, charter) is the
same for every anonymous visitor, so its rendered HTML is kept in the shared cache (Redis in
production, the file cache that web and worker share under `make run`) and served from there
without touching the database, in one cache round trip. An entry is found by its address,
language and figures period, and served while its generations are current:

- the address: scheme, host, path and the page's own query parameters (sorted); a request
  with any other parameter is rendered live and not kept, so that made-up query strings
  cannot fill the cache;
- the language (from the URL under i18n_patterns);
- the *generations* of what the page shows: opaque tokens in the cache, replaced whenever a
  publish, a charter, a calendar, a location, a life event or an Ombudsman finding changes
  (public_site.invalidation connects the signals). `agency:<slug>` covers one agency's own
  pages, `shared` what every page shows (calendars, locations, life events), `all` any
  change anywhere (the pages that list several agencies). The entry records the tokens it
  was rendered under; a replaced token makes it stale at once; nothing else is recomputed;
- the *figures period*: performance figures (on-time rates, open requests) move with every
  delivery, which must not bump a generation 450,000 times a day. They are refreshed on a
  schedule instead: a page is kept at most until the end of its period of
  PUBLIC_PAGE_FIGURES_SECONDS (default 300), and the figures panel says as of when; past
  it, only while the next period's page is being rendered by another request (at most
  STALE_SECONDS: see "Single flight" below), never once a generation has changed.

A missing page is rendered by one request at a time (single flight, a lock in the shared
cache); the others wait for it, or get the previous period's page meanwhile.

Whoever carries a session or messages cookie (staff, or anyone with a flash message to see)
gets the live page, marked `private, no-store`. A response is kept only when it is a 200
with no cookie to set and no CSRF token embedded (CsrfViewMiddleware would have to set one):
such a page would be per-visitor. A page that used the CSP nonce is kept with a placeholder
in its place, and each response gets a fresh nonce substituted (and no shared caching, since
the header and the body must agree per response).

Browsers and a CDN in front get `Cache-Control: public, max-age=60` and a strong ETag (a hash
of the stored body), and a 304 for a matching If-None-Match.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from core.db_router import primary_reads
from core.lru import BoundedLRU

KEY_PREFIX = "page:v2"
GENERATION_PREFIX = "page:gen:v1"
NONCE_PLACEHOLDER = "__maklumat_csp_nonce__"
BROWSER_MAX_AGE = 60
DEFAULT_FIGURES_SECONDS = 300
# Lets tests and the benchmark see what happened; harmless to a visitor.
STATUS_HEADER = "X-Page-Cache"

SHARED = "shared"
ALL = "all"


def agency_generation(slug: str) -> str:
    return f"agency:{slug}"


def _generation_key(name: str) -> str:
    return f"{GENERATION_PREFIX}:{name}"


def page_generations_bump(names: Iterable[str]) -> None:
    """Replace the generation tokens `names` (and `all`): the pages that showed them are
    rebuilt on their next request. A fresh token, never a counter, so that every cache
    backend can do it in one write and a lost token never brings an old key back."""
    token = str(time.time_ns())
    keys = {_generation_key(name) for name in [*names, ALL]}
    cache.set_many(dict.fromkeys(keys, token), timeout=None)
    _local.forget()


def _initialise(keys: list[str]) -> dict[str, Any]:
    """Tokens for generations not in the cache (first use, or evicted): whoever comes first
    wins. Never a default value, so that an evicted token cannot bring an old entry back."""
    for key in keys:
        cache.add(key, str(time.time_ns()), timeout=None)
    return cache.get_many(keys)


class _Local:
    """This process's copy of recent generations and pages, for PUBLIC_PAGE_LOCAL_SECONDS.

    A shared-cache round trip costs more than the rest of a cached answer (measured in
    bench/README.md). With the setting above 0, a process trusts the generations it read
    for that long: a change shows at once in the process that made it (page_generations_bump
    forgets them here) and within that many seconds in every other. 0 (the test suite's
    default) asks the shared cache every time.
    """

    MAX_PAGES = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generations: dict[str, tuple[float, str]] = {}
        self.pages: BoundedLRU[CachedPage] = BoundedLRU(self.MAX_PAGES)

    def fresh(self, keys: list[str], now: float) -> list[str] | None:
        found = [self.generations.get(key) for key in keys]
        if any(item is None or item[0] < now for item in found):
            return None
        return [item[1] for item in found if item is not None]

    def learn(self, found: dict[str, Any], keys: list[str], until: float) -> None:
        with self.lock:
            for key in keys:
                if key in found:
                    self.generations[key] = (until, str(found[key]))

    def page(self, key: str) -> CachedPage | None:
        return self.pages.get(key)

    def remember(self, key: str, page: CachedPage) -> None:
        if local_seconds() <= 0:
            return
        self.pages.put(key, page)

    def forget(self) -> None:
        with self.lock:
            self.generations.clear()
        self.pages.clear()


_local = _Local()


def trusted_generations(generation_keys: list[str]) -> tuple[str, ...] | None:
    """The generations from this process's copy while it may be trusted
    (PUBLIC_PAGE_LOCAL_SECONDS); None: ask the shared cache (and read them with
    `generations_from`), in the round trip that fetches the entries they guard."""
    if local_seconds() <= 0:
        return None
    known = _local.fresh(generation_keys, time.monotonic())
    return tuple(known) if known is not None else None


def generations_from(found: dict[str, Any], generation_keys: list[str]) -> tuple[str, ...]:
    """The generations in `found` (a `get_many` that asked for them), the missing ones
    initialised; this process trusts them for PUBLIC_PAGE_LOCAL_SECONDS."""
    missing = [k for k in generation_keys if k not in found]
    if missing:
        found.update(_initialise(missing))
    seconds = local_seconds()
    if seconds > 0:
        _local.learn(found, generation_keys, time.monotonic() + seconds)
    return tuple(str(found.get(k, "")) for k in generation_keys)


def _lookup(generation_keys: list[str], key: str) -> tuple[tuple[str, ...], CachedPage | None]:
    """The current generations, and the page if an entry rendered under them exists."""
    known = trusted_generations(generation_keys)
    if known is not None:
        generations = known
        page = _local.page(key)
        if page is not None and page.generations == generations:
            return generations, page
        found = {key: cache.get(key)}
    else:
        found = cache.get_many([*generation_keys, key])
        generations = generations_from(found, generation_keys)
    page = found.get(key)
    if isinstance(page, CachedPage) and page.generations == generations:
        _local.remember(key, page)
        return generations, page
    return generations, None


def local_seconds() -> float:
    return float(getattr(settings, "PUBLIC_PAGE_LOCAL_SECONDS", 0))


def figures_seconds() -> int:
    return int(getattr(settings, "PUBLIC_PAGE_FIGURES_SECONDS", DEFAULT_FIGURES_SECONDS))


def enabled() -> bool:
    return bool(getattr(settings, "PUBLIC_PAGE_CACHE", True))


@dataclass(frozen=True)
class CachedPage:
    content: bytes
    content_type: str
    etag: str
    nonce: bool  # the body holds NONCE_PLACEHOLDER where the CSP nonce goes
    generations: tuple[str, ...]  # the tokens the page was rendered under


def _is_live(request: HttpRequest) -> bool:
    """Staff (a session) and visitors with a message waiting see the live page."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or (
        getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies
    )


def _page_key(request: HttpRequest, query: tuple[str, ...], *, periods_ago: int = 0) -> str:
    """The page's address, language and figures period (`periods_ago`: an earlier one); the
    generations are checked against the entry's own (so that one cache round trip fetches
    both)."""
    params = sorted(
        (name, value) for name in query for value in request.GET.getlist(name) if value != ""
    )
    period = int(time.time()) // figures_seconds() - periods_ago
    parts = [
        request.scheme or "",
        request.get_host(),
        request.path,
        repr(params),
        str(period),
        timezone.localdate().isoformat(),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{KEY_PREFIX}:{translation.get_language()}:{digest}"


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if response.has_header("Set-Cookie") or response.has_header("Cache-Control"):
        # A view that set its own caching rules keeps them.
        return False
    # get_token() was called: the page embeds a CSRF token and the cookie is about to be set.
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.modified)


def _respond(request: HttpRequest, page: CachedPage, status: str) -> HttpResponse:
    if page.nonce:
        nonce = str(request.csp_nonce)  # type: ignore[attr-defined]
        response = HttpResponse(
            page.content.replace(NONCE_PLACEHOLDER.encode(), nonce.encode()),
            content_type=page.content_type,
        )
        patch_cache_control(response, private=True, no_cache=True)
    else:
        if page.etag in _if_none_match(request):
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(page.content, content_type=page.content_type)
        response["ETag"] = page.etag
        patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
    patch_vary_headers(response, ["Cookie"])
    response[STATUS_HEADER] = status
    return response


def _if_none_match(request: HttpRequest) -> list[str]:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def _store(
    request: HttpRequest, response: HttpResponse, key: str, generations: tuple[str, ...]
) -> CachedPage:
    content = response.content
    stored_nonce = getattr(request, "_csp_nonce", None)
    nonce = isinstance(stored_nonce, str) and stored_nonce.encode() in content
    if nonce:
        assert isinstance(stored_nonce, str)
        content = content.replace(stored_nonce.encode(), NONCE_PLACEHOLDER.encode())
    page = CachedPage(
        content=content,
        content_type=response.get("Content-Type", "text/html; charset=utf-8"),
        etag='"' + hashlib.sha256(content).hexdigest()[:32] + '"',
        nonce=nonce,
        generations=generations,
    )
    seconds = figures_seconds()
    remaining = seconds - int(time.time()) % seconds
    # Kept a little past its period: served (stale) while the next period's page renders.
    cache.set(key, page, remaining + STALE_SECONDS)
    return page


def public_page(
    *,
    scope: Callable[..., Iterable[str]] | None = None,
    query: Iterable[str] = (),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve an anonymous GET/HEAD of this view from the shared cache.

    `scope(**view_kwargs)` names the generations the page depends on besides `shared`
    (e.g. `agency:<slug>`); without it the page depends on `all`. `query` lists the GET
    parameters the page reads; any other parameter makes the request live.
    Put it below decorators that set headers per response (csp_update): a cached answer
    must still get them.
    """
    allowed = tuple(sorted(query))

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD") or not enabled():
                return view(request, *args, **kwargs)
            if _is_live(request):
                response = view(request, *args, **kwargs)
                patch_cache_control(response, private=True, no_store=True)
                return response
            if any(name not in allowed for name in request.GET):
                return view(request, *args, **kwargs)
            names = [SHARED, *scope(**kwargs)] if scope is not None else [ALL]
            key = _page_key(request, allowed)
            generations, page = _lookup([_generation_key(name) for name in names], key)
            if page is not None:
                return _respond(request, page, "hit")
            previous = _page_key(request, allowed, periods_ago=1)
            with _single_flight(key, generations, previous) as (built, how):
                if built is not None:  # rendered by another request (or the last period's)
                    if how == "wait":
                        _local.remember(key, built)
                    return _respond(request, built, how)
                # Kept for everybody under the current generations: rendered from the
                # primary, never from a replica that may not have replayed the change yet.
                with primary_reads():
                    response = view(request, *args, **kwargs)
                if not _storable(request, response):
                    return response
                page = _store(request, response, key, generations)
                _local.remember(key, page)
                return _respond(request, page, how)

        return wrapper

    return decorator


# --- Single flight -----------------------------------------------------------------------------
#
# When a page is missing (first request, a new figures period, a publish), every request that
# arrives before it is stored would render it: under load, tens of identical renders at once,
# each slowing the others (a cache stampede). Instead the first takes a short lock in the
# shared cache (an atomic add) and renders; the others serve the same page of the previous
# figures period if there is one under the current generations (only the figures moved:
# "stale while revalidate", for at most STALE_SECONDS past its period), else wait for the
# renderer's entry, polling the shared cache. A waiter renders by itself when the lock is
# gone without an entry (the page could not be kept, or its renderer died) or after
# PUBLIC_PAGE_BUILD_WAIT_SECONDS.

LOCK_PREFIX = "page:lock:v1"
# A renderer that died frees its lock after this long. Waiting is better than rendering the
# same page alongside a slow renderer (each render would slow the other down): waiters wait
# as long as the lock may live.
BUILD_LOCK_SECONDS = 60
BUILD_WAIT_SECONDS = 60.0
BUILD_POLL_SECONDS = 0.02
STALE_SECONDS = 60


def _lock_key(key: str, generations: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\n".join(generations).encode()).hexdigest()[:16]
    return f"{LOCK_PREFIX}:{key}:{digest}"


def wait_seconds() -> float:
    return float(getattr(settings, "PUBLIC_PAGE_BUILD_WAIT_SECONDS", BUILD_WAIT_SECONDS))


def _previous(previous_key: str, generations: tuple[str, ...]) -> CachedPage | None:
    page = _local.page(previous_key) or cache.get(previous_key)
    if isinstance(page, CachedPage) and page.generations == generations:
        return page
    return None


@contextlib.contextmanager
def _single_flight(
    key: str, generations: tuple[str, ...], previous_key: str
) -> Iterator[tuple[CachedPage | None, str]]:
    """Yield (page, how). With a page, how is "stale" (the previous period's, while another
    request renders this one) or "wait" (rendered by another request while this one
    waited). Without, this request renders: how is "miss" (holding the lock) or
    "miss-waited" (after waiting in vain)."""
    lock = _lock_key(key, generations)
    token = f"{os.getpid()}:{threading.get_ident()}:{time.time_ns()}"
    waited = False
    deadline = time.monotonic() + wait_seconds()
    while not cache.add(lock, token, BUILD_LOCK_SECONDS):
        if not waited:
            stale = _previous(previous_key, generations)
            if stale is not None:
                yield stale, "stale"
                return
        waited = True
        time.sleep(BUILD_POLL_SECONDS)
        found = cache.get_many([key, lock])
        page = found.get(key)
        if isinstance(page, CachedPage) and page.generations == generations:
            yield page, "wait"
            return
        if time.monotonic() >= deadline:
            yield None, "miss-waited"  # render without the lock: slow, but never stuck
            return
        if lock not in found:
            continue  # the renderer gave up: try to take the lock
    try:
        yield None, "miss-waited" if waited else "miss"
    finally:
        if cache.get(lock) == token:
            cache.delete(lock)


def agency_scope(**kwargs: Any) -> list[str]:
    """The scope of a page under /agencies/<agency_slug or slug>/."""
    slug = kwargs.get("agency_slug") or kwargs["slug"]
    return [agency_generation(str(slug))]
