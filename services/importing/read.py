"""Reading the file: the header and the non-blank data rows, through the shared reader
(core.tabular), within the import's limits."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from core.tabular import FileKind, TableError, open_table
from services.importing.layout import (
    COLUMNS,
    FORMULA_STARTS,
    MAX_BYTES,
    MAX_PHYSICAL_ROWS,
    MAX_ROWS,
    Issue,
)


class FileError(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _too_many_rows() -> FileError:
    return FileError(
        Issue(
            None,
            None,
            _("The file has more than %(max)d rows; split it into smaller files.")
            % {"max": MAX_ROWS},
        )
    )


def _cell_text(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        text = text[1:]
    return text


def read_table(content: bytes, kind: FileKind) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows (with their line numbers)."""
    if len(content) > MAX_BYTES:
        raise FileError(
            Issue(
                None,
                None,
                _("The file is larger than %(max)d MB; split it into smaller files.")
                % {"max": MAX_BYTES // (1024 * 1024)},
            )
        )
    if not content.strip():
        raise FileError(Issue(None, None, _("The file is empty.")))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        with open_table(io.BytesIO(content), kind=kind, max_rows=MAX_PHYSICAL_ROWS) as table:
            for line, cells in table:
                texts = [_cell_text(c) for c in cells]
                if header is None:
                    header = texts
                    continue
                if not any(texts):
                    continue
                rows.append((line, texts))
                if len(rows) > MAX_ROWS:
                    raise _too_many_rows()
    except TableError as error:
        raise FileError(Issue(error.line, None, error.message)) from None
    if header is None:
        raise FileError(Issue(None, None, _("The file is empty.")))
    if not any(header):
        raise FileError(
            Issue(1, None, _("The first line must be the header row, with the column names."))
        )
    return header, rows


def check_header(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:
        names.pop()
    positions: dict[str, int] = {}
    duplicates: list[str] = []
    for position, name in enumerate(names):
        if name in positions:
            duplicates.append(name)
        positions[name] = position
    missing = [c for c in COLUMNS if c not in positions]
    unknown = [n or _("(empty)") for n in names if n not in COLUMNS]
    if missing or unknown or duplicates:
        parts = [_("The header row does not have the expected columns.")]
        if missing:
            parts.append(_("Missing: %(names)s.") % {"names": ", ".join(missing)})
        if unknown:
            parts.append(_("Unknown: %(names)s.") % {"names": ", ".join(unknown)})
        if duplicates:
            parts.append(_("Repeated: %(names)s.") % {"names": ", ".join(duplicates)})
        raise FileError(Issue(1, None, " ".join(parts)))
    return positions
