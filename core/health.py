"""Health checks behind /healthz: each returns None when healthy, else a reason."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database check failed: %s", exc)
        return f"{type(exc).__name__}: {exc}"
    return None


def check_broker() -> str | None:
    from django.conf import settings
    from kombu import Connection

    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        logger.warning("health: broker check failed: %s", exc)
        return f"{type(exc).__name__}: {exc}"
    return None


# Checks whose failure makes the service unavailable (503).
CRITICAL_CHECKS: dict[str, Callable[[], str | None]] = {
    "database": check_database,
    "broker": check_broker,
}
# Checks whose failure degrades the service but does not make it unavailable (200).
DEGRADED_CHECKS: dict[str, Callable[[], str | None]] = {}


def run_checks() -> tuple[str, dict[str, str]]:
    """Return ("ok" | "degraded" | "unavailable", {check: "ok" or reason})."""
    results: dict[str, str] = {}
    overall = "ok"
    for name, check in CRITICAL_CHECKS.items():
        reason = check()
        results[name] = reason or "ok"
        if reason:
            overall = "unavailable"
    for name, check in DEGRADED_CHECKS.items():
        reason = check()
        results[name] = reason or "ok"
        if reason and overall == "ok":
            overall = "degraded"
    return overall, results
