from __future__ import annotations

from celery import shared_task

from cases.services import actions_remind_due_soon, cases_close_incomplete


@shared_task(name="cases.close_incomplete", acks_late=True)
def close_incomplete_task() -> int:
    """The beat-scheduled (hourly) closing of cases whose information never came.
    Idempotent: a closed case is no longer awaiting information."""
    return cases_close_incomplete()


@shared_task(name="cases.remind_due_soon", acks_late=True)
def remind_due_soon_task() -> int:
    """The beat-scheduled (hourly) "due soon" reminders of corrective actions. Idempotent:
    a reminded action is marked, and its outbox row has its own idempotency key."""
    return actions_remind_due_soon()
