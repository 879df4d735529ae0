"""The published scores as CSV and XLSX, streamed (core.exporting: rows read in chunks and
written as they come), so memory stays flat in the data's size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from compliance.selectors import EXPORT_COLUMNS, export_rows
from core import exporting


def csv_chunks() -> Iterator[bytes]:
    return exporting.csv_chunks(EXPORT_COLUMNS, export_rows())


def xlsx_file() -> IO[bytes]:
    return exporting.xlsx_file(EXPORT_COLUMNS, export_rows(), title="scores")
