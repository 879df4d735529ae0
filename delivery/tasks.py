"""Background jobs of the delivery app."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from delivery.importing import import_run
from imports.models import ImportState
from imports.services import STALE_AFTER


@shared_task(name="delivery.import", bind=True, acks_late=True, max_retries=12)
def delivery_import_task(self: Task[Any, Any], job_id: str) -> dict[str, Any] | None:
    """Run a CSV import job. Safe to run twice: the job is claimed with a conditional
    update, deliveries are upserted on the agency's reference, and a finished job is left
    alone."""
    job = import_run(job_id)
    if job is None:
        return None
    if job.state == ImportState.RUNNING:
        # Another run holds the job (a task delivered twice, or a worker that died holding
        # it): look again once its heartbeat may have gone stale; the claim then decides.
        raise self.retry(countdown=STALE_AFTER.total_seconds() + 30)
    return {
        "status": job.state,
        "created": job.created,
        "updated": job.updated,
        "errors": job.errors,
    }


@shared_task(name="delivery.report_figures", acks_late=True)
def figures_precompute_task() -> dict[str, int]:
    """The beat-scheduled precomputation of the public performance figures (every 5
    minutes, on the reports queue): see delivery/figures.py. Safe to run twice at once."""
    from delivery.figures import figures_precompute

    return figures_precompute()
