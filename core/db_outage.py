"""Living through a database restart in long-running work (the sweep, the drainer).

A request that finds PostgreSQL gone answers 503 (core.views.server_error) and the next
request reconnects (CONN_HEALTH_CHECKS). A worker task is different: it may hold a result
that exists only in its memory, such as "the SMTP server accepted this message", which
must reach the database once it is back, or the message would be sent a second time.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Errors that a lost or restarting server raises (psycopg's "connection refused", "server
# closed the connection unexpectedly", "terminating connection due to administrator
# command", "the database system is starting up"; Django's "connection already closed").
CONNECTION_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def connection_lost(exc: BaseException, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `exc` came from losing the database connection (rather than from the data:
    a constraint, a bad value, a lock timeout on a connection that still works)."""
    if not isinstance(exc, CONNECTION_ERRORS):
        return False
    connection = connections[using]
    if connection.connection is None:  # closed after a failed rollback (atomic's __exit__)
        return True
    return not connection.is_usable()


def drop_connection(using: str = DEFAULT_DB_ALIAS) -> None:
    """Forget a broken connection: the next query opens a new one."""
    with contextlib.suppress(DatabaseError):  # closing a dead connection may complain
        connections[using].close()


def outlast_outage(
    work: Callable[[], T],
    *,
    what: str,
    patience: float,
    first_delay: float = 0.5,
    max_delay: float = 5.0,
    using: str = DEFAULT_DB_ALIAS,
) -> T:
    """Run `work`; while it fails because the database is unreachable, wait and run it
    again on a new connection, for up to `patience` seconds (then the last error is raised).

    `work` must be safe to run again after an error whose outcome is unknown (the server
    may have committed before the connection dropped). Never retries inside a transaction:
    the caller's transaction is lost with the connection, so the caller must start over.
    """
    deadline = time.monotonic() + patience
    delay = first_delay
    while True:
        try:
            return work()
        except CONNECTION_ERRORS as exc:
            if connections[using].in_atomic_block or time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "database unreachable while %s (%s); retrying in %.1f s", what, exc, delay
            )
            drop_connection(using)
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
