"""Writing tables as CSV and XLSX, streamed: the one writer of every export.

Rows come from an iterator (read from the database in chunks) and are written as they
come: CSV straight to the response, a line at a time; XLSX through openpyxl's write-only
workbook into a temporary file on disk, then streamed from it. Memory stays flat in the
data's size. Cells that a spreadsheet would run as formulas are defused.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    # Spreadsheets run cells starting with "=" and the like as formulas.
    if text and text[0] in FORMULA_STARTS and not _is_number(text):
        return f"'{text}"
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (spreadsheets detect the encoding), a line at a time."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(list(columns))).encode("utf-8")
    for row in rows:
        yield writer.writerow([cell_text(value) for value in row]).encode("utf-8")


def xlsx_file(sheet_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """The workbook in a temporary file (rewound), written row by row (write-only mode)."""
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(columns))
    for row in rows:
        sheet.append(
            [
                value
                if isinstance(value, int | float) or value is None
                else ILLEGAL_CHARACTERS_RE.sub("", cell_text(value))
                for value in row
            ]
        )
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the streaming response
    workbook.save(handle)
    handle.seek(0)
    return handle
