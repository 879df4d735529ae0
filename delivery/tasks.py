"""Background jobs of the delivery app."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from delivery.importing import import_run, imports_sweep


@shared_task(name="delivery.import", acks_late=True)
def delivery_import_task(job_id: str) -> dict[str, Any] | None:
    """Run a CSV import job. Safe to run twice: deliveries are upserted on the agency's
    reference, and a finished job is left alone."""
    job = import_run(job_id)
    if job is None:
        return None
    return {
        "status": job["status"],
        "created": job["created"],
        "updated": job["updated"],
        "errors": job["errors"],
    }


@shared_task(name="delivery.import_sweep")
def delivery_import_sweep_task() -> int:
    """Periodic: remove the files of expired import jobs (a duplicate run is harmless)."""
    return imports_sweep()
