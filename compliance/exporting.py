"""The published scores as CSV and XLSX, streamed (core.streamed: rows read in chunks and
written as they come), so memory stays flat in the data's size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from compliance.selectors import EXPORT_COLUMNS, export_rows
from core import streamed


def csv_chunks() -> Iterator[bytes]:
    return streamed.csv_chunks(EXPORT_COLUMNS, export_rows())


def xlsx_file() -> IO[bytes]:
    return streamed.xlsx_file("scores", EXPORT_COLUMNS, export_rows())
