"""Reads that may lag go to a read replica (docs/operations.md, "Read replica").

When DATABASE_REPLICA_URL is set, settings add a `replica` database and this router. A
request's reads go to the replica only when `ReplicaReadsMiddleware` marks the request as
one that may lag: an anonymous GET/HEAD of a public page (namespace `public`), open data
(`/opendata/`, `/open311/`) or the API (`/api/`). Everything else reads the primary, and
every write goes to the primary; once a request writes, its later reads go to the primary.

Before sending a request to the replica the middleware asks the replica one question (one
query) and reads the primary instead when:

- the replica cannot be reached: it is then left alone for DATABASE_REPLICA_RETRY_SECONDS
  in this process, so that each request does not wait for a connect timeout;
- it has not replayed up to the visitor's floor: the `maklumat_lsn` cookie holds the
  primary's WAL position after the visitor's last POST, or after their last may-lag page
  that was read from the primary. Whatever a visitor saw is at or before that position,
  so a replica at or past it never shows them an older version than one they saw;
- it holds WAL it has not replayed whose last replayed transaction is older than
  DATABASE_REPLICA_MAX_LAG seconds (replay stuck or far behind).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
COOKIE = "maklumat_lsn"
_LSN = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")
_LAGGING_PREFIXES = ("/api/", "/opendata/", "/open311/")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Primary: the replica could not be reached, or lags behind what the visitor saw.
REASON_DOWN = "down"
REASON_BEHIND = "behind"


@dataclass
class _Reads:
    alias: str = DEFAULT_DB_ALIAS
    wrote: bool = False


_reads: ContextVar[_Reads | None] = ContextVar("maklumat_reads", default=None)
# On the replica, with the visitor's floor and the lag allowed (seconds): is it a standby,
# has it replayed up to the floor, and is it fresh (nothing received waits to be replayed, or
# the last replayed commit is recent enough)?
STATE_SQL = (
    "SELECT pg_is_in_recovery(),"
    " COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false),"
    " COALESCE(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), false)"
    " OR COALESCE(clock_timestamp() - pg_last_xact_replay_timestamp()"
    " <= %s * interval '1 second', false)"
)
# Monotonic time until which this process leaves an unreachable replica alone.
_down_until = 0.0


def configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Writes and migrations: the primary. Reads: the alias the request was given."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        state = _reads.get()
        return state.alias if state is not None else DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        state = _reads.get()
        if state is not None:  # read your own write: the rest of the request reads the primary
            state.alias = DEFAULT_DB_ALIAS
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside the block go to the primary (a render that is kept for everybody)."""
    state = _reads.get()
    if state is None:
        yield
        return
    previous, state.alias = state.alias, DEFAULT_DB_ALIAS
    try:
        yield
    finally:
        if not state.wrote:
            state.alias = previous


def may_lag(request: HttpRequest) -> bool:
    """An anonymous read of public pages, open data or the API."""
    if request.method not in ("GET", "HEAD"):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    path = request.path_info
    for code, _name in settings.LANGUAGES:
        if path.startswith(f"/{code}/"):
            path = path[len(code) + 1 :]
            break
    if path.startswith(_LAGGING_PREFIXES):
        return True
    match = request.resolver_match
    return match is not None and "public" in match.namespaces


def visitor_floor(request: HttpRequest) -> str:
    value = request.COOKIES.get(COOKIE, "")
    return value if _LSN.match(value) else "0/0"


def _mark_down() -> None:
    global _down_until
    _down_until = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


def replica_refusal(floor: str) -> str | None:
    """None when the replica may serve a visitor whose floor is `floor`; else why not."""
    if time.monotonic() < _down_until:
        return REASON_DOWN
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(STATE_SQL, [floor, settings.DATABASE_REPLICA_MAX_LAG])
            in_recovery, reached_floor, fresh = cursor.fetchone()
    except DatabaseError:
        _mark_down()
        return REASON_DOWN
    if in_recovery and reached_floor and fresh:
        return None
    return REASON_BEHIND


def primary_position() -> str | None:
    """The primary's WAL insert position: at or after every commit anybody can see."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            return str(cursor.fetchone()[0])
    except DatabaseError:
        return None


class ReplicaReadsMiddleware:
    """Gives each request its read database; after the request, keeps the visitor's floor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not configured():
            return self.get_response(request)
        state = _Reads()
        token = _reads.set(state)
        request._maklumat_reads = None  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        refusal = getattr(request, "_maklumat_reads", None)
        if request.method in _UNSAFE or state.wrote or refusal is not None:
            position = primary_position()
            if position is not None:
                response.set_cookie(
                    COOKIE,
                    position,
                    max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",
                )
        return response

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        state = _reads.get()
        if state is None or not may_lag(request):
            return None
        refusal = replica_refusal(visitor_floor(request))
        request._maklumat_reads = refusal  # type: ignore[attr-defined]
        if refusal is None and not state.wrote:
            state.alias = REPLICA
        return None
