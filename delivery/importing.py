"""CSV (or XLSX) import of deliveries, run as a background job.

Upload (`import_start`): the file is streamed to disk under VAR_DIR/delivery-imports/,
refused past a configurable size (`DELIVERY_IMPORT_MAX_BYTES`, default 20 MB), then read
through once by the shared reader (core.tabular: encoding, workbook limits, long cells,
row and column caps) and refused, before any job starts, when it cannot be read or lacks
a column. The job's state (progress, counts,
the first errors) lives in the cache under its id; every failed line goes to an error
report CSV next to the upload, in the same columns plus `line` and `errors`, so it can be
fixed and uploaded again (those two columns are ignored on import).

Run (`import_run`, called by the Celery task): reads the file row by row (the same reader), records each
chunk through `delivery.bulk.DeliveryRecorder` (idempotent on the agency's reference: a
re-run or a re-upload never duplicates), and keeps the good rows when others fail.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import Agency
from agencies.policy import Action, can_in_agency
from core.tabular import FileKind, TableError, encoding_error, open_table
from delivery.bulk import CHUNK_SIZE, DeliveryRecorder, ItemResult

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
JOB_TTL = 7 * 24 * 3600
LOCK_TTL = 3600
ERROR_SAMPLE = 100
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_JOB_ID = re.compile(r"[0-9a-f]{32}")


class ImportRefusedError(Exception):
    """The file cannot be imported at all; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def max_bytes() -> int:
    return int(getattr(settings, "DELIVERY_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "delivery-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_kind(filename: str) -> FileKind:
    """Workbooks by their extension; anything else is read as CSV (and refused if it is not)."""
    return FileKind.XLSX if filename.lower().endswith(".xlsx") else FileKind.CSV


def upload_path(job_id: str, kind: FileKind = FileKind.CSV) -> Path:
    return imports_dir() / f"{job_id}.{kind}"


def report_path(job_id: str) -> Path:
    return imports_dir() / f"{job_id}.errors.csv"


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


def _job_key(job_id: str) -> str:
    return f"delivery-import:{job_id}"


def job_get(job_id: str) -> dict[str, Any] | None:
    if not _JOB_ID.fullmatch(job_id):
        return None
    job = cache.get(_job_key(job_id))
    return job if isinstance(job, dict) else None


def job_save(job: dict[str, Any]) -> None:
    job["touched_at"] = time.time()
    cache.set(_job_key(job["id"]), job, JOB_TTL)


def import_start(
    *, agency: Agency, user: Any, upload: Any, language: str | None = None
) -> dict[str, Any]:
    """Store an uploaded file and create its job (queued): the caller starts the task.

    Raises ImportRefusedError when the file is too big, not UTF-8 or lacks a column.
    """
    job_id = uuid.uuid4().hex
    filename = Path(getattr(upload, "name", "") or "deliveries.csv").name[:200]
    kind = upload_kind(filename)
    path = upload_path(job_id, kind)
    size = 0
    limit = max_bytes()
    try:
        with path.open("wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > limit:
                    raise ImportRefusedError(too_big_message())
                out.write(chunk)
        lines = _check_file(path, kind)
    except ImportRefusedError:
        path.unlink(missing_ok=True)
        raise
    job: dict[str, Any] = {
        "id": job_id,
        "agency_id": agency.pk,
        "user_id": user.pk,
        "filename": filename,
        "kind": str(kind),
        "size": size,
        "lines": max(lines, 1),
        "language": language or settings.LANGUAGE_CODE,
        "status": "queued",
        "message": "",
        "rows_done": 0,
        "created": 0,
        "updated": 0,
        "errors": 0,
        "error_sample": [],
        "created_at": time.time(),
    }
    job_save(job)
    return job


def job_fail(job: dict[str, Any], message: str) -> dict[str, Any]:
    job["status"] = "failed"
    job["message"] = message
    job_save(job)
    return job


def job_progress(job: dict[str, Any]) -> int:
    """Percent done: rows read against the lines of the file (100 once finished)."""
    if job["status"] == "done":
        return 100
    total = max(job.get("lines", 1) - 1, 1)
    return min(99, int(job.get("rows_done", 0) * 100 / total))


# --- Run -----------------------------------------------------------------------------------


def _guard(cell: str) -> str:
    """Keep a spreadsheet from reading our message as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


class _Run:
    """One pass over a job's file."""

    def __init__(
        self, job: dict[str, Any], recorder: DeliveryRecorder, report: Any, kind: FileKind
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
        self.job["errors"] += 1
        if len(self.job["error_sample"]) < ERROR_SAMPLE:
            self.job["error_sample"].append(
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
            else:
                self.job[result.result] += 1
        self.job["rows_done"] += len(self.batch)
        self.batch = []
        job_save(self.job)


def _process(job: dict[str, Any], agency: Agency, user: Any) -> None:
    recorder = DeliveryRecorder(agency=agency, acting_user=user, position="line")
    kind = FileKind(job.get("kind") or FileKind.CSV)
    path = upload_path(job["id"], kind)
    job.update(
        status="running", message="", rows_done=0, created=0, updated=0, errors=0, error_sample=[]
    )
    job_save(job)
    with (
        path.open("rb") as raw,
        report_path(job["id"]).open("w", encoding="utf-8", newline="") as report_file,
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
                job_fail(
                    job,
                    _("The file is not UTF-8 text after line %(line)d; the lines before were read.")
                    % {"line": job["rows_done"] + 1},
                )
            else:
                job_fail(job, error.text)
            return
    job["status"] = "done"
    job["finished_at"] = time.time()
    job_save(job)


def import_run(job_id: str) -> dict[str, Any] | None:
    """Run a job. Safe to call twice: a finished job is left alone, a running one (a lock
    held) is not entered again, and a run cut short starts over without duplicating."""
    job = job_get(job_id)
    if job is None or job["status"] in ("done", "failed"):
        return job
    lock = f"{_job_key(job_id)}:lock"
    if not cache.add(lock, 1, LOCK_TTL):
        return job
    try:
        agency = Agency.objects.filter(pk=job["agency_id"]).first()
        user = get_user_model().objects.filter(pk=job["user_id"], is_active=True).first()
        with translation.override(job.get("language") or settings.LANGUAGE_CODE):
            if agency is None or user is None:
                return job_fail(job, _("The agency or the user of this import no longer exists."))
            if not can_in_agency(user, Action.RECORD_DELIVERY, agency.pk):
                return job_fail(job, _("You may no longer record deliveries in this agency."))
            if not upload_path(job_id, FileKind(job.get("kind") or FileKind.CSV)).exists():
                return job_fail(job, _("The uploaded file is gone; upload it again."))
            try:
                _process(job, agency, user)
            except ImportRefusedError as refused:
                return job_fail(job, refused.message)
        return job
    finally:
        with contextlib.suppress(Exception):
            cache.delete(lock)


def imports_sweep(*, older_than: float = JOB_TTL) -> int:
    """Delete uploads and error reports whose job has expired from the cache."""
    limit = time.time() - older_than
    removed = 0
    for path in imports_dir().glob("*.*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
    return removed
