"""Writers of the bulk datasets: CSV streamed row by row, XLSX through a temporary file.

Memory stays flat in both: the CSV writer turns each row into a line as the response is
sent; openpyxl's write-only workbook spills rows to a temporary file and zips them at the
end, and the finished workbook is sent from disk.

A text cell that starts like a formula (=, +, -, @, tab, carriage return) is prefixed with an
apostrophe, so that a spreadsheet opening the file shows the text and never runs it
(OWASP "CSV injection"). Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return value


CHUNK = 64 * 1024


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV document (UTF-8 with a byte-order mark, so that spreadsheets read it as
    UTF-8), in chunks of about 64 KiB: few enough to keep the response machinery's cost per
    chunk small, small enough to keep memory flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell_text(value) for value in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Excel has no time zones: the site's wall-clock time, as the pages show it.
        return value.replace(tzinfo=None) if value.tzinfo is None else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def xlsx_file(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "data"
) -> IO[bytes]:
    """A temporary file holding the workbook, positioned at its start. The caller sends
    it and closes it (which deletes it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(columns))
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
