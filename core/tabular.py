"""Reading tabular uploads (CSV and XLSX) safely: the one reader of every import.

An upload is hostile until read. A 209 KB workbook can hold a 200 MB cell (a zip bomb),
and openpyxl builds each row whole, so a single wide row or a huge cell costs its full
size in memory. This reader, before and while it reads:

- checks an XLSX's zip directory before anything is decompressed: the total of the
  members' declared sizes (`IMPORT_MAX_UNPACKED_BYTES`) and each member's compression
  ratio (`IMPORT_MAX_COMPRESSION_RATIO`). Python's zipfile never inflates a member past
  its declared size (it fails the CRC check instead), so a lying directory gets no more
  out of it than it declared;
- scans the first worksheet's XML in one streaming pass (constant memory) before openpyxl
  reads a row: a row with too many cells, a cell longer than `IMPORT_MAX_CELL_CHARS`
  (its own text or its shared string) and a sheet with too many rows or too much
  formatting are refused there, with their line;
- streams the rows (openpyxl in read-only mode; the csv module over a text stream), and
  refuses a cell longer than `IMPORT_MAX_CELL_CHARS`, more than `IMPORT_MAX_ROWS` rows and
  values in more than `IMPORT_MAX_COLUMNS` columns.

Every refusal is a TableError, whose message is translated and safe to show: it quotes
at most QUOTE_CHARS characters of the file. Rows come as (line, cells), the cells as text;
line 1 is the first line of the file (for a CSV record spread over several lines, the
line where it starts).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import enum
import io
import itertools
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.text import CONTROL_CHARACTER_CODE, CONTROL_CHARACTER_MESSAGE, has_control_characters

QUOTE_CHARS = 40
# The most columns a worksheet can have (XFD): more cells in a row is no spreadsheet.
XLSX_MAX_CELLS_PER_ROW = 16_384
# Parts smaller than this are never refused for their ratio: they cost nothing to inflate.
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000
# Elements of a worksheet outside its rows (column widths, merged cells, conditional
# formats, validations...): openpyxl builds each such block whole.
MAX_SHEET_EXTRAS = 50_000
_CHUNK = 64 * 1024

Row = tuple[int, list[str]]


class FileKind(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def file_kind(filename: str) -> FileKind | None:
    suffix = Path(filename or "").suffix.lower()
    return {".csv": FileKind.CSV, ".xlsx": FileKind.XLSX}.get(suffix)


class TableError(ApplicationError):
    """The upload cannot be read as a table. `message` is safe to show; `line` is the
    line it is about (None: the file as a whole); `text` joins the two."""

    def __init__(self, message: str, *, line: int | None = None, code: str = "table") -> None:
        super().__init__(message, code=code)
        self.line = line

    @property
    def text(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class Limits:
    cell_chars: int
    rows: int
    columns: int
    unpacked_bytes: int
    ratio: int

    @classmethod
    def from_settings(cls, *, max_rows: int | None = None) -> Limits:
        rows = int(settings.IMPORT_MAX_ROWS)
        return cls(
            cell_chars=int(settings.IMPORT_MAX_CELL_CHARS),
            rows=min(rows, max_rows) if max_rows else rows,
            columns=int(settings.IMPORT_MAX_COLUMNS),
            unpacked_bytes=int(settings.IMPORT_MAX_UNPACKED_BYTES),
            ratio=int(settings.IMPORT_MAX_COMPRESSION_RATIO),
        )


# --- Messages ------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return " ".join(text[:QUOTE_CHARS].split())


def encoding_error() -> TableError:
    return TableError(
        _(
            "The file is not in UTF-8 text encoding. In your spreadsheet, save it as "
            "“CSV UTF-8 (comma delimited)”, or upload it as an .xlsx file."
        ),
        code="encoding",
    )


def _not_xlsx() -> TableError:
    return TableError(
        _(
            "The file is not a valid .xlsx workbook. Save it from your spreadsheet as "
            "“Excel Workbook (.xlsx)”, or as CSV UTF-8."
        ),
        code="not_xlsx",
    )


def _cell_too_long(line: int, limits: Limits, start: str) -> TableError:
    return TableError(
        _(
            "A cell is longer than %(max)d characters (it begins “%(start)s…”); shorten it "
            "or split it."
        )
        % {"max": limits.cell_chars, "start": _quote(start)},
        line=line,
        code="cell_too_long",
    )


def _too_many_columns(line: int, limits: Limits) -> TableError:
    return TableError(
        _("This line has values in more than %(max)d columns.") % {"max": limits.columns},
        line=line,
        code="too_many_columns",
    )


def _too_many_rows(limits: Limits) -> TableError:
    return TableError(
        _("The file has more than %(max)d rows; split it into smaller files.")
        % {"max": limits.rows},
        code="too_many_rows",
    )


def _not_a_spreadsheet() -> TableError:
    return TableError(
        _(
            "This workbook is not an ordinary spreadsheet (it would expand to far more than "
            "its size when opened), so it was not opened. Save it again from your "
            "spreadsheet program, or upload it as CSV UTF-8."
        ),
        code="unpacked_ratio",
    )


# --- The table ------------------------------------------------------------------------------


def _nothing() -> None:
    return None


class Table:
    """The rows of an upload. Iterate for (line, cells); close it when done (or use `with`).

    `row_count` is the number of rows when it is known before reading (XLSX), else None.
    """

    def __init__(
        self, rows: Iterator[Row], *, close: Callable[[], None], row_count: int | None
    ) -> None:
        self._rows = rows
        self._close = close
        self.row_count = row_count

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        close, self._close = self._close, _nothing
        close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(source: IO[bytes], *, kind: FileKind, max_rows: int | None = None) -> Table:
    """Check an upload and open its rows. `source` is a seekable binary file, left open.

    Raises TableError now for what is wrong with the file as a whole (not a workbook,
    expands too much, wrong encoding...) and while iterating for what is wrong with a line.
    `max_rows` lowers the setting's row limit for one import.
    """
    limits = Limits.from_settings(max_rows=max_rows)
    if kind == FileKind.XLSX:
        return _xlsx_table(source, limits)
    return _csv_table(source, limits)


def _fit(line: int, cells: list[str], limits: Limits) -> list[str]:
    """The cells of a line, refused when one is too long or a value lies past the last
    allowed column; empty cells past that column are dropped."""
    for cell in cells:
        if len(cell) > limits.cell_chars:
            raise _cell_too_long(line, limits, cell)
        if has_control_characters(cell):
            raise TableError(str(CONTROL_CHARACTER_MESSAGE), line=line, code=CONTROL_CHARACTER_CODE)
    if len(cells) > limits.columns:
        if any(cells[limits.columns :]):
            raise _too_many_columns(line, limits)
        del cells[limits.columns :]
    return cells


# --- CSV -----------------------------------------------------------------------------------


def _detect_delimiter(first_line: str) -> str:
    # Spreadsheets in an Indonesian locale write ";" (the comma is the decimal mark).
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_table(source: IO[bytes], limits: Limits) -> Table:
    start = source.read(4)
    source.seek(0)
    if start.startswith(b"PK\x03\x04"):
        raise TableError(
            _("This is an Excel workbook, not a CSV file: give it the .xlsx extension."),
            code="workbook_as_csv",
        )
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise encoding_error()
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")

    def close() -> None:
        text.detach()  # the caller's file stays open: it is theirs to close

    return Table(_csv_rows(text, limits), close=close, row_count=None)


def _checked_lines(text: Iterable[str]) -> Iterator[str]:
    try:
        for physical in text:
            if "\x00" in physical:  # UTF-16 without a byte-order mark decodes as "valid" UTF-8
                raise encoding_error()
            yield physical
    except UnicodeDecodeError:
        raise encoding_error() from None


def _csv_rows(text: IO[str], limits: Limits) -> Iterator[Row]:
    lines = _checked_lines(text)
    first = next(lines, "")
    if not first:
        return
    reader = csv.reader(itertools.chain([first], lines), delimiter=_detect_delimiter(first))
    last = 0
    for record in itertools.count(1):
        line = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                # The csv module stops a field at 128 KiB: too long for us in any case.
                raise _cell_too_long(line, limits, "") from None
            raise TableError(
                _("This line cannot be read as CSV (%(error)s).") % {"error": error},
                line=line,
                code="csv",
            ) from None
        last = reader.line_num
        if record > limits.rows:
            raise _too_many_rows(limits)
        yield line, _fit(line, cells, limits)


# --- XLSX ----------------------------------------------------------------------------------


def check_archive(source: IO[bytes], limits: Limits) -> None:
    """Refuse a non-zip, and a zip whose members would expand too far, from its directory
    alone: nothing is decompressed."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _not_xlsx() from None
    finally:
        source.seek(0)
    if len(members) > MAX_MEMBERS:
        raise _not_a_spreadsheet()
    for member in members:
        expands = member.file_size > limits.ratio * max(member.compress_size, 1)
        if expands and member.file_size > RATIO_FLOOR_BYTES:
            raise _not_a_spreadsheet()
    if sum(member.file_size for member in members) > limits.unpacked_bytes:
        raise TableError(
            _(
                "The workbook would take more than %(max)s MB once opened; split it into "
                "smaller files."
            )
            % {"max": f"{limits.unpacked_bytes / (1024 * 1024):g}"},
            code="unpacked_size",
        )


class _SheetScan:
    """One streaming pass over a worksheet's XML (expat, constant memory)."""

    def __init__(self, limits: Limits, shared_strings: list[Any]) -> None:
        self.limits = limits
        self.shared = shared_strings
        self.row = 0
        self.cells = 0
        self.in_data = False
        self.extras = 0
        self.in_cell = False
        self.cell_type = "n"
        self.length = 0
        self.head: list[str] = []
        self.in_value = False
        self.value: list[str] = []

    @staticmethod
    def _local(name: str) -> str:
        return name.rpartition("}")[2]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = self._local(name)
        if not self.in_data:
            if local == "sheetData":
                self.in_data = True
                return
            self.extras += 1
            if self.extras > MAX_SHEET_EXTRAS:
                raise _not_a_spreadsheet()
            return
        if local == "row":
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() else self.row + 1
            if self.row > self.limits.rows:
                raise _too_many_rows(self.limits)
            self.cells = 0
        elif local == "c":
            self.cells += 1
            if self.cells > XLSX_MAX_CELLS_PER_ROW:
                raise _too_many_columns(self.row, self.limits)
            self.in_cell = True
            self.cell_type = attrs.get("t", "n")
            self.length = 0
            self.head = []
            self.value = []
        elif local == "v":
            self.in_value = True

    def end(self, name: str) -> None:
        local = self._local(name)
        if local == "sheetData":
            self.in_data = False
        elif local == "v":
            self.in_value = False
        elif local == "c" and self.in_cell:
            self.in_cell = False
            if self.cell_type == "s":
                index = "".join(self.value).strip()
                if index.isdigit() and int(index) < len(self.shared):
                    text = str(self.shared[int(index)])
                    if len(text) > self.limits.cell_chars:
                        raise _cell_too_long(self.row, self.limits, text)

    def data(self, text: str) -> None:
        if not self.in_cell:
            return
        self.length += len(text)
        if sum(map(len, self.head)) < QUOTE_CHARS:
            self.head.append(text[:QUOTE_CHARS])
        if self.length > self.limits.cell_chars:
            raise _cell_too_long(self.row, self.limits, "".join(self.head))
        if self.in_value and len(self.value) < 4:
            self.value.append(text[:QUOTE_CHARS])

    def feed(self, stream: IO[bytes]) -> int:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        try:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError:
            raise _not_xlsx() from None
        return self.row


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_table(source: IO[bytes], limits: Limits) -> Table:
    import openpyxl

    check_archive(source, limits)
    with warnings.catch_warnings():
        # Workbooks from other tools make openpyxl warn (styles, extensions): harmless here.
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except Exception:  # zipfile, XML and openpyxl errors all mean "not a workbook"
            raise _not_xlsx() from None
    try:
        if not workbook.worksheets:
            workbook.close()
            return Table(iter(()), close=_nothing, row_count=0)
        sheet: Any = workbook.worksheets[0]
        # openpyxl's read-only sheet keeps its archive, part name and shared strings in
        # these attributes (openpyxl is pinned; the tests would see a change).
        with workbook._archive.open(sheet._worksheet_path) as stream:
            row_count = _SheetScan(limits, sheet._shared_strings).feed(stream)
        # The declared dimensions may be wrong or absurd (A1:XFD1048576): read the rows.
        sheet.reset_dimensions()
    except TableError:
        workbook.close()
        raise
    except Exception:
        workbook.close()
        raise _not_xlsx() from None
    return Table(_xlsx_rows(sheet, limits), close=workbook.close, row_count=row_count)


def _xlsx_rows(sheet: Any, limits: Limits) -> Iterator[Row]:
    rows = sheet.iter_rows(values_only=True)
    for line in itertools.count(1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:  # a damaged sheet inside a valid zip
                raise _not_xlsx() from None
        if line > limits.rows:
            raise _too_many_rows(limits)
        cells = [_cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        yield line, _fit(line, cells, limits)
