"""CSV (or XLSX) import of deliveries, run as a background job.

Upload (`import_start`): the file is streamed to disk under VAR_DIR/imports/, refused past
a configurable size (`DELIVERY_IMPORT_MAX_BYTES`, default 20 MB), then read through once by
the shared reader (core.tabular: encoding, workbook limits, long cells, row and column caps)
and refused, before any job starts, when it cannot be read or lacks a column.

The job is a row (imports.ImportJob: state, progress, counts, the first errors, its files),
so the web process that shows it and the worker that runs it share nothing else. Every
failed line goes to an error report CSV next to the upload, in the same columns plus `line`
and `errors`, so it can be fixed and uploaded again (those two columns are ignored on
import).

Run (`import_run`, called by the Celery task): claims the job with a conditional update
(a task delivered twice finds it taken and does nothing), reads the file row by row (the
same reader), records each chunk through `delivery.bulk.DeliveryRecorder` (idempotent on
the agency's reference: a re-run or a re-upload never duplicates), and keeps the good rows
when others fail.
"""

from __future__ import annotations

import codecs
import csv
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.policy import Action, can_in_agency
from core.storage import StorageUnavailableError
from core.tabular import FileKind, TableError, encoding_error, open_table
from delivery.bulk import CHUNK_SIZE, DeliveryRecorder, ItemResult
from imports.models import ImportJob, ImportKind, ImportState
from imports.services import (
    UploadTooBigError,
    import_job_claim,
    import_job_create,
    import_job_finish,
    import_job_progress,
    job_file,
    upload_store,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
COLUMNS: tuple[str, ...] = (
    "reference",
    "service_slug",
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "outcome",
    "fee_charged",
    "channel",
)
# A pause: `paused_at` with its `pause_reason`, and `resumed_at` once the clock runs again
# (recorded through delivery_pause/delivery_resume, matched on the pause's start).
OPTIONAL_COLUMNS: tuple[str, ...] = ("refusal_reason", "paused_at", "pause_reason", "resumed_at")
# Added by the error report; ignored when a fixed report is uploaded again.
REPORT_COLUMNS: tuple[str, ...] = ("line", "errors")
# The bulk item's name of each column.
ITEM_NAMES = {"service_slug": "service"}
COLUMN_NAMES = {item: column for column, item in ITEM_NAMES.items()}
ERROR_SAMPLE = 100
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ImportRefusedError(Exception):
    """The file cannot be imported at all; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def max_bytes() -> int:
    return int(getattr(settings, "DELIVERY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_kind(filename: str) -> FileKind:
    """Workbooks by their extension; anything else is read as CSV (and refused if it is not)."""
    return FileKind.XLSX if filename.lower().endswith(".xlsx") else FileKind.CSV


# --- Upload --------------------------------------------------------------------------------


class GuardedUploadHandler(FileUploadHandler):
    """Streams an upload through: skips the file once it passes the size limit (the rest is
    read and thrown away, never held) and checks on the way that a CSV is UTF-8 text."""

    def __init__(self, request: Any = None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_big = False
        self.bad_encoding = False
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = True

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = upload_kind(self.file_name or "") == FileKind.CSV

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_big = True
            raise SkipFile
        if self._text and not self.bad_encoding:
            try:
                self._decoder.decode(raw_data)
            except UnicodeDecodeError:
                self.bad_encoding = True
        return raw_data

    def file_complete(self, file_size: int) -> None:
        if self._text and not self.bad_encoding:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad_encoding = True
        return None


def too_big_message() -> str:
    return _("The file is larger than %(max)s MB; split it into smaller files.") % {
        "max": f"{max_bytes() / (1024 * 1024):g}"
    }


def encoding_message() -> str:
    return encoding_error().message


def _normalise(name: str) -> str:
    return name.strip().lower().lstrip("\ufeff")


def header_check(cells: list[str] | None) -> list[str]:
    """The column names of a file from its first line."""
    header = [_normalise(name) for name in cells or []]
    if not any(header):
        raise ImportRefusedError(_("The file is empty: the first line must name the columns."))
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ImportRefusedError(
            _("Missing columns: %(missing)s. The first line must name these columns: %(all)s.")
            % {"missing": ", ".join(missing), "all": ", ".join(COLUMNS)}
        )
    doubled = sorted({name for name in header if name and header.count(name) > 1})
    if doubled:
        raise ImportRefusedError(
            _("Columns named twice: %(names)s.") % {"names": ", ".join(doubled)}
        )
    return header


def _check_file(path: Path, kind: FileKind) -> int:
    """Read a stored upload through once; its number of lines. Raises ImportRefusedError."""
    try:
        with path.open("rb") as raw, open_table(raw, kind=kind) as table:
            rows = iter(table)
            first = next(rows, None)
            header_check(first[1] if first is not None else None)
            lines = table.row_count
            if lines is None:
                # A CSV is read to its end now, so that a line the reader refuses stops the
                # upload instead of the import halfway.
                lines = 1
                for lines, _cells in rows:  # noqa: B007
                    pass
            return lines
    except TableError as error:
        raise ImportRefusedError(error.text) from None


def import_start(
    *, agency: Agency, user: Any, upload: Any, language: str | None = None
) -> ImportJob:
    """Store an uploaded file and create its job (waiting): the caller starts the task.

    Raises ImportRefusedError when the file is too big, cannot be read or lacks a column.
    """
    filename = Path(getattr(upload, "name", "") or "deliveries.csv").name[:200]
    kind = upload_kind(filename)
    try:
        stored = upload_store(chunks=upload.chunks(), file_format=kind, max_bytes=max_bytes())
    except UploadTooBigError:
        raise ImportRefusedError(too_big_message()) from None
    except StorageUnavailableError as full:
        raise ImportRefusedError(full.message) from None
    try:
        lines = _check_file(stored.path, kind)
    except ImportRefusedError:
        stored.discard()
        raise
    return import_job_create(
        kind=ImportKind.DELIVERIES,
        agency=agency,
        owner=user,
        upload=stored,
        filename=filename,
        file_format=kind,
        lines=max(lines, 1),
        language=language or settings.LANGUAGE_CODE,
    )


# --- Run -----------------------------------------------------------------------------------


def _guard(cell: str) -> str:
    """Keep a spreadsheet from reading our message as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


class _ClaimLostError(Exception):
    """Another run took the job over: this one stops."""


class _Run:
    """One pass over a job's file."""

    def __init__(
        self, job: ImportJob, recorder: DeliveryRecorder, report: Any, kind: FileKind
    ) -> None:
        self.job = job
        self.kind = kind
        self.recorder = recorder
        self.report = report
        self.header: list[str] = []
        self.positions: dict[str, int] = {}
        self.kept: list[int] = []
        self.batch: list[
            tuple[int, dict[str, str] | None, list[str], dict[str, list[str]], str]
        ] = []

    def start(self, header: list[str]) -> None:
        self.header = [_normalise(name) for name in header]
        self.positions = {
            name: self.header.index(name)
            for name in (*COLUMNS, *OPTIONAL_COLUMNS)
            if name in self.header
        }
        self.kept = [i for i, name in enumerate(self.header) if name not in REPORT_COLUMNS]
        self.report.writerow([header[i] for i in self.kept] + list(REPORT_COLUMNS))

    def error(
        self, line: int, row: list[str], errors: dict[str, list[str]], reference: str
    ) -> None:
        messages = [
            (COLUMN_NAMES.get(name, name), message)
            for name, texts in errors.items()
            for message in texts
        ]
        text = "; ".join(
            message if column == "non_field_errors" else f"{column}: {message}"
            for column, message in messages
        )
        cells = [row[i] if i < len(row) else "" for i in self.kept]
        self.report.writerow([*cells, str(line), _guard(text)])
        self.job.errors += 1
        if len(self.job.error_sample) < ERROR_SAMPLE:
            self.job.error_sample.append(
                {
                    "line": line,
                    "reference": reference,
                    "errors": [
                        {"column": "" if column == "non_field_errors" else column, "message": m}
                        for column, m in messages
                    ],
                }
            )

    def unreadable(self, line: int, row: list[str], message: str) -> None:
        """A line refused before validation; reported in its place among the others."""
        position = self.positions.get("reference", 0)
        reference = row[position].strip() if len(row) > position else ""
        self.batch.append((line, None, row, {"non_field_errors": [message]}, reference))

    def add(self, line: int, row: list[str]) -> None:
        if not any(cell.strip() for cell in row):
            return
        width = len(self.header)
        if len(row) > width and not any(cell.strip() for cell in row[width:]):
            row = row[:width]  # trailing separators, as some spreadsheets write them
        elif len(row) < width and self.kind == FileKind.XLSX:
            row = row + [""] * (width - len(row))  # a worksheet leaves out empty cells
        if len(row) != width:
            self.unreadable(
                line,
                row,
                _("The line has %(found)d values; the first line names %(expected)d.")
                % {"found": len(row), "expected": width},
            )
        else:
            raw = {ITEM_NAMES.get(name, name): row[pos] for name, pos in self.positions.items()}
            self.batch.append((line, raw, row, {}, ""))
        if len(self.batch) >= CHUNK_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        results: dict[int, ItemResult] = {
            result.index: result
            for result in self.recorder.record(
                [(line, raw) for line, raw, _row, _e, _r in self.batch if raw is not None]
            )
        }
        for line, raw, row, errors, reference in self.batch:
            result = results.get(line) if raw is not None else None
            if result is None:
                self.error(line, row, errors, reference)
            elif result.result == "error":
                self.error(line, row, result.errors, result.reference)
            elif result.result == "created":
                self.job.created += 1
            else:
                self.job.updated += 1
        self.job.rows_read += len(self.batch)
        self.batch = []
        if not import_job_progress(job=self.job):
            raise _ClaimLostError


def _process(job: ImportJob, path: Path, report: Path) -> str:
    """Import the file; the message the job ends with (empty when it went through)."""
    recorder = DeliveryRecorder(agency=job.agency, acting_user=job.owner, position="line")
    kind = FileKind(job.file_format)
    with (
        path.open("rb") as raw,
        report.open("w", encoding="utf-8", newline="") as report_file,
    ):
        run = _Run(job, recorder, csv.writer(report_file), kind)
        try:
            with open_table(raw, kind=kind) as table:
                for line, row in table:
                    if not run.header:
                        run.start(row)
                        if "reference" not in run.positions:
                            raise ImportRefusedError(_("The first line must name the columns."))
                        continue
                    run.add(line, row)
            run.flush()
        except TableError as error:
            # The upload was read through before the job started: only a file changed
            # since then gets here. Keep what was recorded, and say where it stopped.
            run.flush()
            if error.code == "encoding":
                return _(
                    "The file is not UTF-8 text after line %(line)d; the lines before were read."
                ) % {"line": job.rows_read + 1}
            return error.text
    return ""


def _job_pk(job_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(job_id))
    except ValueError:
        return None


def import_run(job_id: str) -> ImportJob | None:
    """Run a job. Safe to call twice: only a waiting job (or a running one whose worker
    went silent) is claimed; a finished or running job is returned as it is, and a run cut
    short starts over without duplicating. None for an unknown job."""
    pk = _job_pk(job_id)
    if pk is None:
        return None
    job = import_job_claim(job_id=pk, kind=ImportKind.DELIVERIES)
    if job is None:
        return ImportJob.objects.filter(pk=pk, kind=ImportKind.DELIVERIES).first()
    with translation.override(job.language or settings.LANGUAGE_CODE):
        user = job.owner
        path, report = job_file(job.upload_file), job_file(job.report_file)
        if not user.is_active:
            message = _("The user of this import can no longer sign in.")
        elif not can_in_agency(user, Action.RECORD_DELIVERY, job.agency_id):
            message = _("You may no longer record deliveries in this agency.")
        elif path is None or report is None or not path.exists():
            message = _("The uploaded file is gone; upload it again.")
        else:
            try:
                message = _process(job, path, report)
            except ImportRefusedError as refused:
                message = refused.message
            except _ClaimLostError:
                return job
        state = ImportState.FAILED if message else ImportState.DONE
        import_job_finish(job=job, state=state, message=message)
    return job
