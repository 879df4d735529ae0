"""Writers of the bulk datasets: the one streamed writer of every export (core.exporting:
CSV in ~64 KiB chunks, XLSX through a temporary file, formula-like text defused).

The public datasets are served as `text/csv` without a charset parameter (the byte-order
mark says UTF-8), as they always were.
"""

from __future__ import annotations

from core.exporting import XLSX_MEDIA_TYPE, csv_chunks, xlsx_file

CSV_MEDIA_TYPE = "text/csv"

__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "csv_chunks", "xlsx_file"]
