from __future__ import annotations

from celery import shared_task

from cases.services import cases_close_incomplete


@shared_task(name="cases.close_incomplete", acks_late=True)
def close_incomplete_task() -> int:
    """The beat-scheduled (hourly) closing of cases whose information never came.
    Idempotent: a closed case is no longer awaiting information."""
    return cases_close_incomplete()
