"""Import jobs as rows: claimed once, taken over when stale, swept when old; owner only."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from imports.models import ImportJob, ImportKind, ImportState
from imports.selectors import import_job_get
from imports.services import (
    ABANDONED_AFTER,
    STALE_AFTER,
    UploadTooBigError,
    import_job_claim,
    import_job_create,
    import_job_finish,
    import_job_progress,
    import_jobs_sweep,
    imports_dir,
    job_file,
    upload_store,
)


@pytest.fixture(autouse=True)
def english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def make_job(agency: Any, owner: Any, kind: ImportKind = ImportKind.DELIVERIES) -> ImportJob:
    stored = upload_store(chunks=[b"reference\n", b"K-1\n"], file_format="csv", max_bytes=100)
    return import_job_create(
        kind=kind,
        agency=agency,
        owner=owner,
        upload=stored,
        filename="../../p.csv",
        file_format="csv",
        lines=2,
    )


def test_an_upload_is_stored_privately_and_refused_past_its_limit(agency_a, editor_a):
    job = make_job(agency_a, editor_a)
    path = job_file(job.upload_file)
    assert path is not None and path.read_bytes() == b"reference\nK-1\n"
    assert path.parent == imports_dir() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert (job.filename, job.size, job.state) == ("p.csv", 14, "waiting")
    before = set(imports_dir().iterdir())
    with pytest.raises(UploadTooBigError):
        upload_store(chunks=[b"x" * 60, b"x" * 60], file_format="csv", max_bytes=100)
    assert set(imports_dir().iterdir()) == before


def test_a_job_is_claimed_once(agency_a, editor_a):
    job = make_job(agency_a, editor_a)
    first = import_job_claim(job_id=job.pk, kind=ImportKind.DELIVERIES)
    assert first is not None and (first.state, first.attempt) == ("running", 1)
    assert import_job_claim(job_id=job.pk, kind=ImportKind.DELIVERIES) is None
    # The wrong kind is not claimable either.
    assert import_job_claim(job_id=job.pk, kind=ImportKind.STANDARDS) is None
    first.rows_read, first.created = 1, 1
    assert import_job_progress(job=first)
    assert import_job_finish(job=first, state=ImportState.DONE)
    assert import_job_claim(job_id=job.pk, kind=ImportKind.DELIVERIES) is None
    saved = ImportJob.objects.get(pk=job.pk)
    assert (saved.state, saved.rows_read, saved.created, saved.progress) == ("done", 1, 1, 100)


def test_a_silent_running_job_is_taken_over_and_the_old_run_stops_writing(agency_a, editor_a):
    job = make_job(agency_a, editor_a)
    old_run = import_job_claim(job_id=job.pk, kind=ImportKind.DELIVERIES)
    assert old_run is not None
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - STALE_AFTER - dt.timedelta(seconds=1)
    )
    new_run = import_job_claim(job_id=job.pk, kind=ImportKind.DELIVERIES)
    assert new_run is not None and new_run.attempt == 2
    old_run.rows_read = 99
    assert not import_job_progress(job=old_run)
    assert not import_job_finish(job=old_run, state=ImportState.FAILED, message="old")
    saved = ImportJob.objects.get(pk=job.pk)
    assert (saved.state, saved.rows_read, saved.message) == ("running", 0, "")


def test_the_owner_alone_reads_a_job_while_the_policy_allows(agency_a, editor_a, approver_a):
    job = make_job(agency_a, editor_a)
    assert import_job_get(user=editor_a, job_id=str(job.pk), kind=ImportKind.DELIVERIES) == job
    assert import_job_get(user=editor_a, job_id=job.pk.hex, kind=ImportKind.DELIVERIES) == job
    assert import_job_get(user=approver_a, job_id=str(job.pk), kind=ImportKind.DELIVERIES) is None
    assert import_job_get(user=editor_a, job_id=str(job.pk), kind=ImportKind.STANDARDS) is None
    assert import_job_get(user=editor_a, job_id="../etc", kind=ImportKind.DELIVERIES) is None
    editor_a.memberships.all().delete()
    editor_a._policy_memberships = None
    assert import_job_get(user=editor_a, job_id=str(job.pk), kind=ImportKind.DELIVERIES) is None


def test_the_sweep_fails_abandoned_jobs_and_deletes_old_ones_with_their_files(agency_a, editor_a):
    now = timezone.now()
    abandoned = make_job(agency_a, editor_a)
    ImportJob.objects.filter(pk=abandoned.pk).update(
        state="running", updated_at=now - ABANDONED_AFTER - dt.timedelta(minutes=1)
    )
    never_started = make_job(agency_a, editor_a)
    ImportJob.objects.filter(pk=never_started.pk).update(created_at=now - dt.timedelta(hours=2))
    staged = make_job(agency_a, editor_a, kind=ImportKind.STANDARDS)
    ImportJob.objects.filter(pk=staged.pk).update(created_at=now - dt.timedelta(days=2))
    old = make_job(agency_a, editor_a)
    ImportJob.objects.filter(pk=old.pk).update(state="done", created_at=now - dt.timedelta(days=8))
    fresh = make_job(agency_a, editor_a)
    orphan = imports_dir() / "0123456789abcdef0123456789abcdef.csv"
    orphan.write_bytes(b"left behind by a crash")
    young_orphan = imports_dir() / "fedcba9876543210fedcba9876543210.csv"
    young_orphan.write_bytes(b"being stored right now")
    day_old = (now - dt.timedelta(days=2)).timestamp()
    os.utime(orphan, (day_old, day_old))
    live_file = job_file(abandoned.upload_file)
    assert live_file is not None
    os.utime(live_file, (day_old, day_old))

    assert import_jobs_sweep() == 2  # the staged upload and the old job
    states = dict(ImportJob.objects.values_list("pk", "state"))
    assert states == {
        abandoned.pk: "failed",
        never_started.pk: "failed",
        fresh.pk: "waiting",
    }
    assert ImportJob.objects.get(pk=abandoned.pk).message.startswith("The import stopped")
    assert not orphan.exists() and young_orphan.exists() and live_file.exists()
    for gone in (staged, old):
        path = job_file(gone.upload_file)
        assert path is not None and not path.exists()
    assert import_jobs_sweep() == 0
