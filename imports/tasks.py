"""Background jobs of the imports app."""

from __future__ import annotations

from celery import shared_task

from imports.services import import_jobs_sweep


@shared_task(name="imports.sweep")
def import_jobs_sweep_task() -> int:
    """Periodic: fail abandoned jobs, delete expired ones and their files (a duplicate run
    is harmless)."""
    return import_jobs_sweep()
