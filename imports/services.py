"""Writes of import jobs: store an upload, create its job, claim it, record its progress,
finish it, and sweep old jobs away.

A job is claimed with a conditional UPDATE (waiting -> running, or a running job whose
heartbeat is stale), never with a lock: when a task is delivered twice, or two workers
race, exactly one UPDATE changes the row and the other run does nothing. Each claim counts
`attempt` up, and a run writes only while its attempt is the job's, so a run that was
taken over (its worker hung past the heartbeat) stops instead of writing over the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from core.storage import STORAGE_ERRNOS, storage_refused
from imports.models import FINISHED, ImportJob, ImportKind, ImportState

logger = logging.getLogger(__name__)

FOLDER = "imports"
# Finished jobs, their uploads and error reports are kept this long.
JOB_TTL = dt.timedelta(days=7)
# A standards upload waiting for its confirmation is kept this long.
STAGE_TTL = dt.timedelta(days=1)
# A running job that has not written for this long is taken over by the next claim...
STALE_AFTER = dt.timedelta(minutes=5)
# ...and failed by the sweep after this long (its worker died and nothing will retry it).
ABANDONED_AFTER = dt.timedelta(hours=1)
# A delivery job that no worker picked up within this time (its message was lost).
NEVER_STARTED_AFTER = dt.timedelta(hours=1)


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_file(name: str) -> Path | None:
    """The absolute path of a job's file (None when the job has none)."""
    return Path(settings.VAR_DIR) / name if name else None


class UploadTooBigError(Exception):
    pass


@dataclass(frozen=True)
class StoredUpload:
    """An upload written to the imports folder, before (or without) its job."""

    id: uuid.UUID
    name: str  # relative to VAR_DIR
    size: int

    @property
    def path(self) -> Path:
        return Path(settings.VAR_DIR) / self.name

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def upload_store(*, chunks: Iterable[bytes], file_format: str, max_bytes: int) -> StoredUpload:
    """Stream an upload into the imports folder under a new random name.

    Raises UploadTooBigError, leaving nothing behind, once it passes `max_bytes`.
    """
    job_id = uuid.uuid4()
    name = f"{FOLDER}/{job_id.hex}.{file_format}"
    path = Path(settings.VAR_DIR) / name
    size = 0
    try:
        imports_dir()
        with path.open("xb") as out:
            path.chmod(0o600)
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooBigError
                out.write(chunk)
    except BaseException as exc:
        try:
            path.unlink(missing_ok=True)
        except OSError as cleanup:
            logger.error("imports: could not remove %s (%s)", path, cleanup)
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            raise storage_refused(exc, str(path)) from exc
        raise
    return StoredUpload(id=job_id, name=name, size=size)


def import_job_create(
    *,
    kind: ImportKind,
    agency: Agency,
    owner: Any,
    upload: StoredUpload,
    filename: str,
    file_format: str,
    lines: int = 0,
    language: str = "",
) -> ImportJob:
    """The job of a stored upload, waiting to run (deliveries) or to be confirmed (standards)."""
    return ImportJob.objects.create(
        id=upload.id,
        kind=kind,
        agency=agency,
        owner=owner,
        filename=Path(filename or "upload").name[:200],
        file_format=file_format,
        size=upload.size,
        upload_file=upload.name,
        report_file=f"{FOLDER}/{upload.id.hex}.errors.csv" if kind == ImportKind.DELIVERIES else "",
        lines=lines,
        language=language or settings.LANGUAGE_CODE,
    )


def import_job_claim(*, job_id: Any, kind: ImportKind) -> ImportJob | None:
    """Take a job to run it: the job, running under a new attempt, or None when it is not
    there to take (finished, running elsewhere, unknown)."""
    now = timezone.now()
    claimable = Q(state=ImportState.WAITING) | Q(
        state=ImportState.RUNNING, updated_at__lt=now - STALE_AFTER
    )
    taken = (
        ImportJob.objects.filter(claimable, pk=job_id, kind=kind)
        .exclude(upload_file="")
        .update(
            state=ImportState.RUNNING,
            attempt=F("attempt") + 1,
            started_at=now,
            updated_at=now,
            finished_at=None,
            rows_read=0,
            created=0,
            updated=0,
            errors=0,
            error_sample=[],
            message="",
        )
    )
    if taken != 1:
        return None
    return ImportJob.objects.select_related("agency", "owner").get(pk=job_id)


_COUNTS = ("rows_read", "created", "updated", "errors", "error_sample")


def _held(job: ImportJob) -> Any:
    return ImportJob.objects.filter(pk=job.pk, state=ImportState.RUNNING, attempt=job.attempt)


def import_job_progress(*, job: ImportJob) -> bool:
    """Record a running job's counts (and its heartbeat). False when the job was taken
    over by another run: the caller stops."""
    fields = {name: getattr(job, name) for name in _COUNTS}
    return _held(job).update(updated_at=timezone.now(), **fields) == 1


def import_job_finish(*, job: ImportJob, state: ImportState, message: str = "") -> bool:
    """End a running job as done or failed, with its counts. False when it was taken over."""
    now = timezone.now()
    fields = {name: getattr(job, name) for name in _COUNTS}
    finished = _held(job).update(
        state=state, message=message, finished_at=now, updated_at=now, **fields
    )
    if finished == 1:
        job.state, job.message, job.finished_at = state, message, now
    return finished == 1


def import_job_release(*, job: ImportJob, message: str = "") -> None:
    """A running job back to waiting (a standards confirmation refused: the upload stays)."""
    _held(job).update(state=ImportState.WAITING, message=message, updated_at=timezone.now())
    job.state, job.message = ImportState.WAITING, message


def import_job_fail(*, job: ImportJob, message: str) -> None:
    """Fail a job that has not finished (it could not start, or was cancelled)."""
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).exclude(state__in=FINISHED).update(
        state=ImportState.FAILED, message=message, finished_at=now, updated_at=now
    )
    job.refresh_from_db()


def import_job_discard_upload(*, job: ImportJob) -> None:
    """Remove a job's uploaded file (once it is imported or cancelled); the row stays."""
    path = job_file(job.upload_file)
    if path is not None:
        path.unlink(missing_ok=True)
    ImportJob.objects.filter(pk=job.pk).update(upload_file="")
    job.upload_file = ""


def import_jobs_trim(*, owner: Any, kind: ImportKind, keep: int) -> int:
    """Cancel a user's waiting jobs of one kind beyond the newest `keep` (their files go)."""
    old = list(
        ImportJob.objects.filter(owner=owner, kind=kind, state=ImportState.WAITING).order_by(
            "-created_at"
        )[keep:]
    )
    for job in old:
        import_job_fail(job=job, message=_("Replaced by a newer upload."))
        import_job_discard_upload(job=job)
    return len(old)


def _unlink(names: Iterable[str]) -> None:
    for name in names:
        path = job_file(name)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def import_jobs_sweep(*, now: dt.datetime | None = None) -> int:
    """Periodic: fail jobs nobody will finish, delete expired jobs with their files, and
    files that no job names. Returns the number of jobs deleted. Safe to run twice."""
    now = now or timezone.now()
    ImportJob.objects.filter(
        Q(state=ImportState.RUNNING, updated_at__lt=now - ABANDONED_AFTER)
        | Q(
            kind=ImportKind.DELIVERIES,
            state=ImportState.WAITING,
            created_at__lt=now - NEVER_STARTED_AFTER,
        )
    ).update(
        state=ImportState.FAILED,
        message=_("The import stopped before the end; upload the file again."),
        finished_at=now,
        updated_at=now,
    )
    expired = ImportJob.objects.filter(
        Q(created_at__lt=now - JOB_TTL)
        | Q(kind=ImportKind.STANDARDS, state=ImportState.WAITING, created_at__lt=now - STAGE_TTL)
    )
    for upload_file, report_file in expired.values_list("upload_file", "report_file").iterator(
        chunk_size=500
    ):
        _unlink((upload_file, report_file))
    deleted, _by_model = expired.delete()
    # Files of no job (a crash between storing an upload and creating its job).
    cutoff = (now - STAGE_TTL).timestamp()
    old_files = sorted(
        f"{FOLDER}/{path.name}"
        for path in imports_dir().iterdir()
        if path.is_file() and path.stat().st_mtime < cutoff
    )
    for start in range(0, len(old_files), 500):
        batch = old_files[start : start + 500]
        named = ImportJob.objects.filter(Q(upload_file__in=batch) | Q(report_file__in=batch))
        kept = {name for pair in named.values_list("upload_file", "report_file") for name in pair}
        _unlink(name for name in batch if name not in kept)
    return deleted
