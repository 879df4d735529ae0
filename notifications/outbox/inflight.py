"""The SENT record of one message, in flight on the database connection while the next
message travels to the SMTP server; committed before the server may accept that next one.

Why the duplicate window stays one message wide
-----------------------------------------------
Rows are claimed in batches (`claim`: `SELECT ... FOR UPDATE SKIP LOCKED`, flipped to
`sending` and committed), then sent one by one. For message k+1 the drainer

1. composes it (notifications.compose), while the record of message k (its attempt row
   and `sending -> sent`, one statement: drain.RECORD_SENT_EMAIL_SQL) is on its way to
   PostgreSQL: sent without waiting for the answer;
2. opens the SMTP transaction: MAIL FROM, RCPT TO and DATA, still without waiting for
   PostgreSQL;
3. **waits for the record of message k to be committed** (each statement is its own
   transaction: the drainer runs outside any `atomic`), and only then sends message k+1's
   bytes and the final `.` that asks the server to accept it;
4. reads the server's answer and sends the record of message k+1 the same way.

So when the server accepts message k+1, every earlier message is durably `sent`: a drainer
that dies at any point leaves at most one accepted message whose row is still `sending`
(the one in flight, as before), which `requeue_stale` sends once more. The database round
trip overlaps the composing and three SMTP round trips instead of adding to them.

Any other use of the connection meanwhile first waits for the record in flight: a query
(a renderer's) through a Django execute wrapper; a transaction (a failure's ORM record, the
next claim), which begins before any query, by an explicit `wait()` in the drainer. So
nothing else ever shares the connection with it. A record that fails raises, as a failed
synchronous record did: the drain stops before anything else is sent.

A lost connection (the database restarting) while a record is in flight is not an error
of the drain: the message has left, so the record must land once the database is back.
`send` takes a `recover` callable for that record; when sending or waiting fails because
the connection is gone, the broken connection is dropped and `recover` runs (the drainer's
`_Recorder._record`, which waits for the database and first checks whether the statement
in flight committed before the connection dropped).

Only on PostgreSQL with psycopg 3 (libpq's asynchronous API); elsewhere every outcome is
recorded synchronously (`record_outcome`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from core.db_outage import drop_connection


@functools.lru_cache(maxsize=64)  # a few statements, each sent once per message
def _numbered(sql: str) -> bytes:
    """`%s` placeholders as libpq's `$1, $2, ...`."""
    counter = iter(range(1, 1000))
    return re.sub(r"%s", lambda _m: f"${next(counter)}", sql).encode()


def _text(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat().encode()
    return str(value).encode()


class InFlight:
    """At most one statement sent on the connection and not yet waited for."""

    def __init__(self) -> None:
        self.pending = False
        self.recover: Callable[[], object] | None = None

    @staticmethod
    def available() -> bool:
        if connection.vendor != "postgresql":
            return False
        try:
            import psycopg  # noqa: F401
        except ImportError:  # pragma: no cover - the project pins psycopg 3
            return False
        return True

    def send(
        self, sql: str, params: list[Any], *, recover: Callable[[], object] | None = None
    ) -> None:
        """Send one statement; its result is read by the next `wait()`. `recover` redoes
        the statement's work if the connection is lost before its result is known."""
        from psycopg import OperationalError as PsycopgOperationalError
        from psycopg import generators

        self.wait()
        try:
            connection.ensure_connection()
            raw: Any = connection.connection
            pgconn = raw.pgconn
            pgconn.send_query_params(_numbered(sql), [_text(p) for p in params])
            self.pending = True
            self.recover = recover
            raw.wait(generators.send(pgconn))
        except (OperationalError, InterfaceError, PsycopgOperationalError):
            self.pending = False
            self.recover = None
            if recover is None:
                raise
            drop_connection()
            recover()
            return
        if connection.queries_logged:  # as Django's own cursor logs (DEBUG, tests)
            connection.queries_log.append({"sql": sql % tuple(params), "time": "0.000"})

    def wait(self) -> None:
        """Block until the statement in flight (if any) has completed; raise its error, or,
        if the connection was lost meanwhile, run its `recover`."""
        if not self.pending:
            return
        from psycopg import errors, generators, pq

        raw: Any = connection.connection
        recover, self.recover = self.recover, None
        self.pending = False
        try:
            results = raw.wait(generators.fetch_many(raw.pgconn))
        except errors.Error as exc:
            if recover is not None and (isinstance(exc, errors.OperationalError) or raw.closed):
                self._recover(recover)
                return
            raise DatabaseError(str(exc)) from exc
        for result in results:
            if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
                error = errors.error_from_result(result, encoding=raw.info.encoding)
                if recover is not None and isinstance(error, errors.OperationalError):
                    # e.g. 57P01 "terminating connection due to administrator command"
                    self._recover(recover)
                    return
                raise DatabaseError(str(error)) from error

    @staticmethod
    def _recover(recover: Callable[[], object]) -> None:
        drop_connection()
        recover()

    @contextmanager
    def guarding(self) -> Iterator[InFlight]:
        """While open, any query on the connection waits for the statement in flight; at
        the end (normal or not) the statement in flight is waited for."""

        def before(execute: Callable[..., Any], *args: Any) -> Any:
            self.wait()
            return execute(*args)

        with connection.execute_wrapper(before):
            try:
                yield self
            finally:
                self.wait()
