"""The shared cache of anonymous public pages.

A public page (home, service, agency, unit, location, life event, league, charter) is the
same for every anonymous visitor, so its rendered HTML is kept in the shared cache (Redis in
production, the file cache that web and worker share under `make run`) and served from there
without touching the database. The key holds what the page depends on:

- the address: scheme, host, path and the page's own query parameters (sorted); a request
  with any other parameter is rendered live and not kept, so that made-up query strings
  cannot fill the cache;
- the language (from the URL under i18n_patterns);
- the *generations* of what the page shows: opaque tokens in the cache, replaced whenever a
  publish, a charter, a calendar, a location, a life event or an Ombudsman finding changes
  (public_site.invalidation connects the signals). `agency:<slug>` covers one agency's own
  pages, `shared` what every page shows (calendars, locations, life events), `all` any
  change anywhere (the pages that list several agencies). A change makes every key that
  included the old token unreachable at once; nothing else is recomputed;
- the *figures period*: performance figures (on-time rates, open requests) move with every
  delivery, which must not bump a generation 450,000 times a day. They are refreshed on a
  schedule instead: a page is kept at most until the end of its period of
  PUBLIC_PAGE_FIGURES_SECONDS (default 300), and the figures panel says as of when.

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

import functools
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers

KEY_PREFIX = "page:v1"
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


def _generations(names: list[str]) -> list[str]:
    keys = [_generation_key(name) for name in names]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        # First use, or evicted: a new token (add: whoever comes first wins).
        cache.add(key, str(time.time_ns()), timeout=None)
    if missing:
        found.update(cache.get_many(missing))
    return [str(found.get(key, "")) for key in keys]


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


def _is_live(request: HttpRequest) -> bool:
    """Staff (a session) and visitors with a message waiting see the live page."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or (
        getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies
    )


def _page_key(request: HttpRequest, query: tuple[str, ...], generations: list[str]) -> str:
    params = sorted(
        (name, value) for name in query for value in request.GET.getlist(name) if value != ""
    )
    period = int(time.time()) // figures_seconds()
    parts = [
        request.scheme or "",
        request.get_host(),
        request.path,
        repr(params),
        ",".join(generations),
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


def _store(request: HttpRequest, response: HttpResponse, key: str) -> CachedPage:
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
    )
    seconds = figures_seconds()
    remaining = seconds - int(time.time()) % seconds
    cache.set(key, page, remaining + 1)
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
            key = _page_key(request, allowed, _generations(names))
            page = cache.get(key)
            if isinstance(page, CachedPage):
                return _respond(request, page, "hit")
            response = view(request, *args, **kwargs)
            if not _storable(request, response):
                return response
            return _respond(request, _store(request, response, key), "miss")

        return wrapper

    return decorator


def agency_scope(**kwargs: Any) -> list[str]:
    """The scope of a page under /agencies/<agency_slug or slug>/."""
    slug = kwargs.get("agency_slug") or kwargs["slug"]
    return [agency_generation(str(slug))]
