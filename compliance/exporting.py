"""The published scores as CSV and XLSX, streamed: rows are read in chunks and written as
they come (CSV straight to the response; XLSX through openpyxl's write-only workbook into a
temporary file on disk, then streamed from it), so memory stays flat in the data's size."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from compliance.selectors import EXPORT_COLUMNS, export_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
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


def csv_chunks() -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (spreadsheets detect the encoding), a line at a time."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow(EXPORT_COLUMNS)).encode("utf-8")
    for row in export_rows():
        yield writer.writerow([_cell(value) for value in row]).encode("utf-8")


def xlsx_file() -> IO[bytes]:
    """The workbook in a temporary file (rewound), written row by row (write-only mode)."""
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("scores")
    sheet.append(list(EXPORT_COLUMNS))
    for row in export_rows():
        sheet.append(
            [
                value
                if isinstance(value, int | float) or value is None
                else ILLEGAL_CHARACTERS_RE.sub("", _cell(value))
                for value in row
            ]
        )
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the streaming response
    workbook.save(handle)
    handle.seek(0)
    return handle
