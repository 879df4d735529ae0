from __future__ import annotations

from celery import shared_task

from core.db_outage import CONNECTION_ERRORS
from notifications.tasks import drain_task
from oversight.escalation import escalate
from oversight.followers import citizen_followers_purge_unconfirmed
from oversight.partitions import create_partitions
from oversight.sweep import sweep


@shared_task(
    name="oversight.sweep",
    acks_late=True,
    # Cut short by a database restart: run again shortly (backing off to a minute) rather
    # than wait for beat's next tick. The work is idempotent.
    autoretry_for=CONNECTION_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def sweep_task() -> dict[str, int]:
    """The beat-scheduled sweep (every minute). Idempotent: a duplicate run is harmless.
    A run cut short by a database restart is retried (and its watermark is not kept)."""
    return sweep().created


@shared_task(name="oversight.purge_unconfirmed_followers", acks_late=True)
def purge_unconfirmed_followers_task() -> int:
    """The beat-scheduled purge (daily) of citizen followers who never confirmed their
    address. Idempotent: a duplicate run deletes nothing more."""
    return citizen_followers_purge_unconfirmed()


@shared_task(name="oversight.escalate", acks_late=True)
def escalate_task() -> dict[int, int]:
    """The beat-scheduled escalation ladder (every 15 minutes), then a drain of what it
    wrote. Idempotent: each breach is raised once per level."""
    raised = escalate()
    if any(raised.values()):
        drain_task.delay()
    return raised


@shared_task(name="oversight.create_partitions", acks_late=True)
def create_partitions_task() -> list[str]:
    """The beat-scheduled (daily) creation of the month partitions ahead
    (oversight/partitions.py). Idempotent, serialised by an advisory lock; a no-op off
    PostgreSQL (the embedded default)."""
    return create_partitions()
