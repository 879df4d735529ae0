"""Keeping the upload between preview and confirmation: the bytes are kept on the server
as a waiting import job of their uploader (imports.ImportJob); confirmation claims the
job, so that it is applied once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from agencies.models import Agency
from core.tabular import FileKind
from imports.models import ImportJob, ImportKind, ImportState
from imports.services import (
    import_job_claim,
    import_job_create,
    import_job_discard_upload,
    import_job_fail,
    import_job_finish,
    import_job_release,
    import_jobs_trim,
    job_file,
    upload_store,
)
from services.importing.apply import ImportResult, import_apply
from services.importing.layout import MAX_BYTES, ImportRefusedError

# Waiting uploads kept per user; older ones are dropped.
MAX_STAGED = 5


def import_stage(
    *, agency: Agency, user: Any, content: bytes, kind: FileKind, filename: str
) -> ImportJob:
    """Keep the uploaded bytes on the server as a waiting job of its uploader: the preview
    and the confirmation read them back."""
    stored = upload_store(chunks=[content], file_format=kind, max_bytes=MAX_BYTES)
    job = import_job_create(
        kind=ImportKind.STANDARDS,
        agency=agency,
        owner=user,
        upload=stored,
        filename=filename,
        file_format=kind,
    )
    import_jobs_trim(owner=user, kind=ImportKind.STANDARDS, keep=MAX_STAGED)
    return job


def staged_content(*, job: ImportJob) -> bytes | None:
    path = job_file(job.upload_file)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def import_confirm(*, job: ImportJob, acting_user: Any, content: bytes) -> ImportResult | None:
    """Apply a waiting upload, all or nothing (import_apply). None when the job is not
    waiting any more (confirmed already, or being confirmed in another request).

    Raises ImportRefusedError, and leaves the job waiting, when the file has errors.
    """
    claimed = import_job_claim(job_id=job.pk, kind=ImportKind.STANDARDS)
    if claimed is None:
        return None
    try:
        result = import_apply(
            agency=claimed.agency,
            acting_user=acting_user,
            content=content,
            kind=FileKind(claimed.file_format),
        )
    except ImportRefusedError as refused:
        import_job_release(job=claimed, message=refused.message)
        raise
    except BaseException:
        import_job_release(job=claimed)
        raise
    claimed.rows_read = len(result.versions)
    claimed.created = result.drafts_created
    claimed.updated = result.drafts_updated
    import_job_finish(job=claimed, state=ImportState.DONE)
    import_job_discard_upload(job=claimed)
    return result


def import_cancel(*, job: ImportJob) -> None:
    import_job_fail(job=job, message=_("The import was cancelled; nothing was written."))
    import_job_discard_upload(job=job)
