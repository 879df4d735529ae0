"""Reads of import jobs, scoped: a job is its owner's alone, and only while the permission
policy still lets them import into its agency. Everybody else is told it does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from agencies.policy import Action, can_in_agency
from imports.models import ImportJob, ImportKind

# The right an import needs, by kind.
REQUIRED_ACTION: dict[str, Action] = {
    ImportKind.STANDARDS: Action.EDIT_STANDARD,
    ImportKind.DELIVERIES: Action.RECORD_DELIVERY,
}


def import_job_get(*, user: Any, job_id: str, kind: ImportKind) -> ImportJob | None:
    """The user's own job of this kind, or None (unknown, another user's, or an agency in
    which they may no longer import)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        return None
    job = ImportJob.objects.select_related("agency").filter(pk=pk, kind=kind, owner=user).first()
    if job is None or not can_in_agency(user, REQUIRED_ACTION[kind], job.agency_id):
        return None
    return job
