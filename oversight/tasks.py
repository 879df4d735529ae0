from __future__ import annotations

from celery import shared_task

from oversight.sweep import sweep


@shared_task(name="oversight.sweep", acks_late=True)
def sweep_task() -> dict[str, int]:
    """The beat-scheduled sweep (every minute). Idempotent: a duplicate run is harmless."""
    return sweep().created
