"""CSV import: malformed files and rows, line numbers, the error report, idempotency."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from delivery.importing import ImportRefusedError, import_run, import_start
from delivery.models import DeliveryStatus, ServiceDelivery
from delivery.tasks import delivery_import_task
from imports.models import ImportJob
from imports.services import STALE_AFTER, imports_dir, job_file
from tests.delivery.ingest.conftest import HEADER, csv_bytes, row, snapshot


def start(agency: Any, user: Any, content: bytes, name: str = "permohonan.csv") -> ImportJob:
    return import_start(
        agency=agency, user=user, upload=SimpleUploadedFile(name, content), language="en"
    )


def run(agency: Any, user: Any, content: bytes) -> ImportJob:
    job = start(agency, user, content)
    delivery_import_task.run(str(job.pk))
    return ImportJob.objects.get(pk=job.pk)


def report_path(job: ImportJob) -> Path:
    path = job_file(job.report_file)
    assert path is not None
    return path


def report_rows(job: ImportJob) -> list[dict[str, str]]:
    with report_path(job).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_good_file_is_imported(agency_a, editor_a, ktp):
    content = csv_bytes([row(f"K-{i}") for i in range(1, 8)])
    job = run(agency_a, editor_a, content)
    assert job.state == "done" and job.message == ""
    assert (job.created, job.updated, job.errors, job.rows_read) == (7, 0, 0, 7)
    delivery = ServiceDelivery.objects.get(reference="K-1")
    assert delivery.submitted_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)  # 09:00 WIB
    assert delivery.due_date == dt.date(2026, 1, 12) and delivery.status == DeliveryStatus.OPEN


def test_rerunning_a_job_or_reuploading_never_duplicates(agency_a, editor_a, ktp):
    content = csv_bytes([row(f"K-{i}") for i in range(1, 6)])
    job = start(agency_a, editor_a, content)
    delivery_import_task.run(str(job.pk))
    before = snapshot()
    assert len(before) == 5
    # A finished job run again (a redelivered task) does nothing.
    assert delivery_import_task.run(str(job.pk)) == {
        "status": "done",
        "created": 5,
        "updated": 0,
        "errors": 0,
    }
    assert snapshot() == before
    # A run cut short (the worker died: the job is running, its heartbeat stale) starts
    # over: every row updates, none duplicates.
    stale = timezone.now() - STALE_AFTER - dt.timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(state="running", updated_at=stale)
    delivery_import_task.run(str(job.pk))
    rerun = ImportJob.objects.get(pk=job.pk)
    assert (rerun.state, rerun.created, rerun.updated, rerun.attempt) == ("done", 0, 5, 2)
    assert snapshot() == before
    # The same file uploaded again.
    again = run(agency_a, editor_a, content)
    assert (again.created, again.updated, again.errors) == (0, 5, 0)
    assert snapshot() == before


def test_a_running_job_is_not_entered_twice(agency_a, editor_a, ktp):
    job = start(agency_a, editor_a, csv_bytes([row("K-1")]))
    # Another run holds the job and is alive (its heartbeat is fresh).
    ImportJob.objects.filter(pk=job.pk).update(state="running", attempt=1)
    held = import_run(str(job.pk))
    assert held is not None and (held.state, held.attempt) == ("running", 1)
    assert ServiceDelivery.objects.count() == 0
    # The task asks to be retried once the heartbeat may have gone stale.
    with pytest.raises(Retry):
        delivery_import_task.run(str(job.pk))
    assert ServiceDelivery.objects.count() == 0
    # The other run finished meanwhile: the retry leaves the job alone.
    ImportJob.objects.filter(pk=job.pk).update(state="done")
    assert (delivery_import_task.run(str(job.pk)) or {}).get("status") == "done"
    assert ServiceDelivery.objects.count() == 0
    # Still waiting: the task claims it and imports.
    ImportJob.objects.filter(pk=job.pk).update(state="waiting")
    assert (delivery_import_task.run(str(job.pk)) or {}).get("status") == "done"
    assert ServiceDelivery.objects.count() == 1


def test_a_run_that_was_taken_over_stops_writing(agency_a, editor_a, ktp, monkeypatch):
    from delivery import importing
    from delivery.bulk import CHUNK_SIZE

    content = csv_bytes([row(f"K-{i}") for i in range(1, 2 * CHUNK_SIZE + 201)])
    job = start(agency_a, editor_a, content)
    claimed: list[bool] = []
    original = importing.import_job_progress

    def taken_over(*, job: ImportJob) -> bool:
        # After its first chunk, this run's worker hangs; another run claims the job.
        if not claimed:
            claimed.append(True)
            ImportJob.objects.filter(pk=job.pk).update(attempt=job.attempt + 1)
        return original(job=job)

    monkeypatch.setattr(importing, "import_job_progress", taken_over)
    result = import_run(str(job.pk))
    assert result is not None
    saved = ImportJob.objects.get(pk=job.pk)
    # The first run stopped after one chunk and wrote nothing over the new claim.
    assert ServiceDelivery.objects.count() == CHUNK_SIZE
    assert (saved.state, saved.attempt, saved.rows_read) == ("running", 2, 0)


def test_unknown_jobs_are_ignored(db):
    assert delivery_import_task.run("0" * 32) is None
    assert delivery_import_task.run("../../etc/passwd") is None


def test_status_updates_by_reupload(agency_a, editor_a, ktp):
    run(agency_a, editor_a, csv_bytes([row("K-1"), row("K-2"), row("K-3")]))
    job = run(
        agency_a,
        editor_a,
        csv_bytes(
            [
                row("K-1", completed="2026-01-09 10:00", outcome="granted", fee="0"),
                row("K-2", completed="2026-01-20T10:00:00+07:00", outcome="refused"),
                row("K-3", outcome="withdrawn"),
            ]
        ),
    )
    assert (job.created, job.updated, job.errors) == (0, 3, 0)
    k1, k2, k3 = ServiceDelivery.objects.order_by("reference")
    assert k1.status == DeliveryStatus.COMPLETED and k1.is_on_time
    assert k2.outcome == "refused" and k2.is_on_time is False
    assert k3.status == DeliveryStatus.WITHDRAWN


BAD_ROWS: list[tuple[list[str], str, str]] = [
    (row("B-date", submitted="5 Januari 2026"), "submitted_at", "Not a date"),
    (row("B-day", submitted="2026-01-05", complete=""), "submitted_at", "time of day"),
    (row("B-order", completed="2026-01-04 09:00"), "completed_at", "before it was submitted"),
    (row("B-file", complete="2026-01-04 09:00"), "file_complete_at", "before it was submitted"),
    (row("B-fee", fee="-5000"), "fee_charged", "negative"),
    (row("B-fee2", fee="lima ribu"), "fee_charged", "whole number"),
    (row("B-svc", service="tidak-ada"), "service_slug", "Unknown service"),
    (row("B-other", service="surat-pindah"), "service_slug", "Unknown service"),
    (row("B-outcome", outcome="mungkin"), "outcome", "Unknown outcome"),
    (row("B-channel", channel="fax"), "channel", "Unknown channel"),
    (row(""), "reference", "required"),
    (row("B-early", submitted="2025-05-01 09:00", complete=""), "submitted_at", "no published"),
    (row("K-2"), "reference", "line 6"),  # a duplicate of the good row on line 6
]


def test_every_bad_row_is_reported_with_its_line_and_good_rows_are_kept(
    agency_a, editor_a, ktp, service_b
):
    rows: list[list[str]] = []
    expected: dict[int, tuple[str, str]] = {}
    for n, (bad, column, words) in enumerate(BAD_ROWS):
        rows.append(row(f"K-{n}", fee="1.500.000" if n == 4 else "0"))
        rows.append(bad)
        expected[len(rows) + 1] = (column, words)  # line 1 is the header
    rows.append([])  # blank lines are skipped, but they count
    rows.append(["K-short", "ktp-elektronik", "2026-01-05 09:00"])
    expected[len(rows) + 1] = ("", "3 values")
    rows.append(row("K-last", fee="1,000"))
    job = run(agency_a, editor_a, csv_bytes(rows))
    assert job.state == "done"
    assert job.errors == len(expected)
    assert job.created == len(BAD_ROWS) + 1
    seen = {sample["line"]: sample for sample in job.error_sample}
    assert set(seen) == set(expected)
    for line, (column, words) in expected.items():
        messages = {e["column"]: e["message"] for e in seen[line]["errors"]}
        assert column in messages, (line, seen[line])
        assert words.lower() in messages[column].lower(), (line, seen[line])
    good = {f"K-{n}" for n in range(len(BAD_ROWS))} | {"K-last"}
    assert set(ServiceDelivery.objects.values_list("reference", flat=True)) == good
    assert ServiceDelivery.objects.get(reference="K-4").fee_charged == 1_500_000
    assert ServiceDelivery.objects.get(reference="K-last").fee_charged == 1000

    # The error report: the failed lines only, same columns, plus the line and the reason.
    report = report_rows(job)
    assert [int(r["line"]) for r in report] == sorted(expected)
    assert list(report[0])[: len(HEADER)] == HEADER
    assert report[0]["reference"] == "B-date" and "submitted_at" in report[0]["errors"]
    assert "Unknown service" in report[6]["errors"]


def test_a_fixed_error_report_can_be_uploaded_again(agency_a, editor_a, ktp):
    job = run(
        agency_a,
        editor_a,
        csv_bytes([row("K-1"), row("K-2", fee="-1"), row("K-3", service="salah")]),
    )
    assert (job.created, job.errors) == (1, 2)
    fixed = report_path(job).read_text(encoding="utf-8")
    fixed = fixed.replace(",-1,", ",1000,").replace(",salah,", ",ktp-elektronik,")
    again = run(agency_a, editor_a, fixed.encode("utf-8"))
    assert (again.created, again.updated, again.errors) == (2, 0, 0)
    assert ServiceDelivery.objects.count() == 3


def test_semicolons_a_bom_and_extra_columns_are_understood(agency_a, editor_a, ktp):
    content = csv_bytes(
        [[*row("K-1", fee="2.500"), "catatan", ""], [*row("K-2"), "", ""]],
        header=[*HEADER, "notes", ""],
        delimiter=";",
    )
    job = run(agency_a, editor_a, b"\xef\xbb\xbf" + content)
    assert (job.created, job.errors) == (2, 0), job.error_sample
    assert ServiceDelivery.objects.get(reference="K-1").fee_charged == 2500


def test_quoted_newlines_keep_line_numbers_right(agency_a, editor_a, ktp):
    content = csv_bytes(
        [row("K-1"), [*row("K-2")[:5], "refused", "0", "counter"], row("K-3", fee="-1")],
        header=HEADER,
    )
    content = content.replace(b"K-2", b'"K-2\nx"')
    job = run(agency_a, editor_a, content)
    [sample] = job.error_sample
    assert sample["line"] == 5  # K-2 spans lines 3 and 4


# --- Files refused before any job ----------------------------------------------------------


def test_missing_columns_are_refused(agency_a, editor_a, ktp):
    content = csv_bytes([row("K-1")[:3]], header=["reference", "service_slug", "submitted_at"])
    with pytest.raises(ImportRefusedError) as refused:
        start(agency_a, editor_a, content)
    assert "file_complete_at" in refused.value.message
    assert "fee_charged" in refused.value.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"reference;service_slug\n", "Missing columns"),
        (b"", "empty"),
        (b"\n\n", "empty"),
        ("referensi,layanan\n".encode("utf-16"), "UTF-8"),
        (
            csv_bytes([row("Permohonan Pak Dédé")]).decode().encode("cp1252"),
            "UTF-8",
        ),
        (",".join([*HEADER, "reference"]).encode(), "named twice"),
    ],
)
def test_unreadable_files_are_refused_clearly(agency_a, editor_a, ktp, content, words):
    before = set(imports_dir().iterdir())
    with pytest.raises(ImportRefusedError) as refused:
        start(agency_a, editor_a, content)
    assert words in refused.value.message
    assert set(imports_dir().iterdir()) == before
    assert not ImportJob.objects.exists()


def test_the_size_limit_is_configurable(agency_a, editor_a, ktp, settings):
    settings.DELIVERY_IMPORT_MAX_BYTES = 1024
    content = csv_bytes([row(f"K-{i}") for i in range(40)])
    assert len(content) > 1024
    with pytest.raises(ImportRefusedError) as refused:
        start(agency_a, editor_a, content)
    assert "0.0009765" in refused.value.message or "MB" in refused.value.message


def test_a_user_who_lost_the_right_gets_a_failed_job(agency_a, editor_a, ktp):
    job = start(agency_a, editor_a, csv_bytes([row("K-1")]))
    editor_a.memberships.all().delete()
    editor_a._policy_memberships = None
    result = import_run(str(job.pk))
    assert result is not None and result.state == "failed"
    assert ImportJob.objects.get(pk=job.pk).message == (
        "You may no longer record deliveries in this agency."
    )
    assert ServiceDelivery.objects.count() == 0


def test_a_big_file_shows_progress_in_chunks(agency_a, editor_a, ktp):
    from delivery.bulk import CHUNK_SIZE

    content = csv_bytes([row(f"K-{i}") for i in range(1, 2 * CHUNK_SIZE + 201)])
    job = start(agency_a, editor_a, content)
    rows = 2 * CHUNK_SIZE + 200
    assert job.lines == rows + 1  # the header
    done = import_run(str(job.pk))
    assert done is not None and done.rows_read == rows and done.created == rows
    assert ImportJob.objects.get(pk=job.pk).progress == 100
    assert ServiceDelivery.objects.count() == rows


def test_error_report_cells_cannot_become_formulas(agency_a, editor_a, ktp):
    job = run(agency_a, editor_a, csv_bytes([row("K-1", service="=cmd|' /C calc'!A0")]))
    [line] = report_rows(job)
    assert line["service_slug"] == "=cmd|' /C calc'!A0"  # the user's own cell, as it was
    assert not line["errors"].startswith("=")


def test_the_stored_file_is_the_upload_byte_for_byte(agency_a, editor_a, ktp):
    content = csv_bytes([row("K-1"), row("K-2")])
    job = start(agency_a, editor_a, content)
    path = job_file(job.upload_file)
    assert path is not None and path.read_bytes() == content
    assert (job.size, job.lines, job.state, job.owner, job.kind) == (
        len(content),
        3,
        "waiting",
        editor_a,
        "deliveries",
    )


def test_expired_jobs_and_their_files_are_swept(agency_a, editor_a, ktp, var_dir):
    from imports.tasks import import_jobs_sweep_task

    old = run(agency_a, editor_a, csv_bytes([row("K-1"), row("K-2", fee="-1")]))
    new = run(agency_a, editor_a, csv_bytes([row("K-3")]))
    old_files = [job_file(old.upload_file), job_file(old.report_file)]
    assert all(path is not None and path.exists() for path in old_files)
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    assert import_jobs_sweep_task.run() == 1
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    assert not any(path is not None and path.exists() for path in old_files)
    new_path = job_file(new.upload_file)
    assert ImportJob.objects.filter(pk=new.pk).exists() and new_path and new_path.exists()
    assert import_jobs_sweep_task.run() == 0  # a second sweep finds nothing more
