"""Writing tables for download: CSV streamed in chunks, XLSX through a temporary file.

The writing side of core/tabular.py (which reads uploads), for any app's export. Memory
stays flat in both: the CSV writer turns rows into ~64 KiB chunks as the response is sent;
openpyxl's write-only workbook spills rows to a temporary file and zips them at the end,
and the finished workbook is sent from disk. Feed them an iterator (a queryset's
`.iterator(chunk_size=...)`), never a list.

A text cell that starts like a formula (=, +, -, @, tab, carriage return) is prefixed with
an apostrophe, so that a spreadsheet opening the file shows the text and never runs it
(OWASP "CSV injection"); characters XML forbids are dropped from XLSX cells. Numbers are
written as numbers. The one writer of the staff exports (the review desk, cases' findings
and actions, compliance's scores).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


def safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return timezone.localtime(value).isoformat()  # the site's time, with its offset
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return safe_text(str(value))


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV document (UTF-8 with a byte-order mark, so that spreadsheets read it as
    UTF-8), in chunks of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([safe_text(str(column)) for column in columns])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx_value(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        # Excel has no time zones: the site's wall-clock time, as the pages show it.
        return timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", safe_text(str(value)))


def xlsx_file(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "data"
) -> IO[bytes]:
    """A temporary file holding the workbook, positioned at its start. The caller sends
    it and closes it (which deletes it)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([_xlsx_value(str(column)) for column in columns])
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if cell.data_type == "f":  # text that openpyxl took for a formula
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    workbook.save(output)
    output.seek(0)
    return output
