"""Beat-scheduled tasks (see migrations/0004_delivery_schedule.py). All idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from core.db_outage import CONNECTION_ERRORS
from notifications.outbox import digest_collect, drain, requeue_stale


@shared_task(
    name="notifications.drain",
    acks_late=True,
    # Cut short by a database restart: run again shortly (backing off to a minute) rather
    # than wait for beat's next tick. The work is idempotent.
    autoretry_for=CONNECTION_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def drain_task() -> dict[str, int]:
    """Send every due notification. Safe to run concurrently (rows are claimed)."""
    result = drain()
    return {"expanded": result.expanded, "claimed": result.claimed, **result.outcomes}


logger = logging.getLogger(__name__)


def kick_drain() -> bool:
    """Ask a worker to drain now. Call it after the outbox rows are committed.

    Never raises: the rows are already in the database, so a broker that is down only
    delays them until beat's next drain (every minute) or the sweeper's kick once the
    broker is back. Returns whether the request was published.
    """
    if not settings.NOTIFICATIONS_KICK_DRAIN:
        return False
    try:
        drain_task.apply_async(retry=False)
    except Exception as exc:  # the broker is unreachable: nothing is lost
        logger.warning("notifications: could not ask for a drain (%s); beat will drain", exc)
        return False
    return True


@shared_task(name="notifications.requeue", acks_late=True)
def requeue_task() -> dict[str, int]:
    """Re-queue rows whose worker died mid-send; kick a drain if due rows are waiting."""
    counts = requeue_stale()
    if counts["requeued"] or counts["waiting"]:
        drain_task.delay()
    return counts


@shared_task(name="notifications.digest", acks_late=True)
def digest_task() -> int:
    """Gather the day's held emails into one digest per recipient, then send them."""
    written = digest_collect()
    if written:
        drain_task.delay()
    return written
