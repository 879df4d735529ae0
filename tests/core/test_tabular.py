"""The shared reader of tabular uploads: limits checked before anything big is built."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import tracemalloc
import zipfile
from typing import Any

import pytest
from django.utils import translation

from core.tabular import FileKind, TableError, open_table
from tests.tabular_files import BIG, MB, SHEET, bomb, with_sheet, xlsx


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


def read(content: bytes, kind: FileKind = FileKind.CSV, **kwargs: Any) -> list[Any]:
    with open_table(io.BytesIO(content), kind=kind, **kwargs) as table:
        return list(table)


def refusal(content: bytes, kind: FileKind = FileKind.CSV, **kwargs: Any) -> TableError:
    with pytest.raises(TableError) as refused:
        read(content, kind, **kwargs)
    return refused.value


def measured_refusal(content: bytes, kind: FileKind) -> tuple[TableError, int, float]:
    """The refusal, the peak of memory allocated meanwhile, and the seconds it took."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        error = refusal(content, kind)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak, time.monotonic() - started


def quoted(message: str) -> str:
    match = re.search(r"“(.*)…”", message)
    assert match, message
    return match.group(1)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_rows_come_with_the_line_where_each_record_starts() -> None:
    content = b'\xef\xbb\xbfa;b\r\n1;"two\nlines"\r\n\r\n3;4\r\n'
    assert read(content) == [(1, ["a", "b"]), (2, ["1", "two\nlines"]), (4, []), (5, ["3", "4"])]


def test_an_empty_csv_has_no_rows() -> None:
    assert read(b"") == []
    assert read(b"\xef\xbb\xbf") == []


def test_csv_in_another_encoding_is_refused_for_the_file() -> None:
    for content in ("a,b\n".encode("utf-16"), "a,b\nDédé,1\n".encode("cp1252"), b"a\x00,b\n"):
        error = refusal(content)
        assert error.line is None and error.code == "encoding" and "UTF-8" in error.message


def test_a_workbook_named_csv_is_refused() -> None:
    assert ".xlsx extension" in refusal(xlsx([["a"]])).message


@pytest.mark.parametrize("length", [10_001, 200_000])
def test_an_overlong_csv_cell_names_its_line_and_quotes_little(length: int) -> None:
    content = b"a,b\n1,2\n3," + b"x" * length + b"\n"
    error = refusal(content)
    assert error.line == 3 and error.code == "cell_too_long"
    assert error.text.startswith("Line 3: ")
    assert len(quoted(error.message)) <= 40
    assert len(error.text) < 200


def test_a_cell_of_exactly_the_limit_is_read(settings: Any) -> None:
    settings.IMPORT_MAX_CELL_CHARS = 50
    assert read(b"a\n" + b"x" * 50 + b"\n")[1] == (2, ["x" * 50])
    assert refusal(b"a\n" + b"x" * 51 + b"\n").line == 2


def test_csv_row_and_column_caps(settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 3
    settings.IMPORT_MAX_COLUMNS = 3
    assert len(read(b"a,b,c\n1,2,3\n4,5,6\n")) == 3
    assert "more than 3 rows" in refusal(b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n").message
    # Empty cells past the last column are dropped; a value there is refused, with its line.
    assert read(b"a,b,c,,,\n") == [(1, ["a", "b", "c"])]
    error = refusal(b"a,b,c\n1,2,3,4\n")
    assert error.line == 2 and "more than 3 columns" in error.message


def test_a_lower_row_limit_for_one_import(settings: Any) -> None:
    assert "more than 2 rows" in refusal(b"a\n1\n2\n", max_rows=2).message


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_values_come_as_text() -> None:
    content = xlsx(
        [
            ["name", "count", "ratio", "when", "day", "ok"],
            ["KTP", 3, 2.5, dt.datetime(2026, 1, 5, 9, 30), dt.date(2026, 1, 6), True],
            [],
            ["KK", 4.0],
        ]
    )
    assert read(content, FileKind.XLSX) == [
        (1, ["name", "count", "ratio", "when", "day", "ok"]),
        (2, ["KTP", "3", "2.5", "2026-01-05T09:30:00", "2026-01-06T00:00:00", "true"]),
        (3, []),
        (4, ["KK", "4"]),
    ]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04 broken", b"a,b\n1,2\n"],
)
def test_what_is_not_a_workbook_is_refused_cleanly(content: bytes) -> None:
    error = refusal(content, FileKind.XLSX)
    assert error.line is None and error.code == "not_xlsx"


def test_a_zip_that_is_no_workbook_is_refused_cleanly() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert refusal(out.getvalue(), FileKind.XLSX).code == "not_xlsx"


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared-string"])
def test_a_zip_bomb_is_refused_from_its_directory_before_anything_expands(shared: bool) -> None:
    content = bomb([["name", "product"], ["KTP", BIG]], size=50 * MB, shared=shared)
    assert len(content) < 1 * MB  # 50 MB of text in a small file
    error, peak, seconds = measured_refusal(content, FileKind.XLSX)
    assert peak < 5 * MB  # far below the 50 MB the cell would take
    assert seconds < 5
    assert error.code == "unpacked_ratio" and "not an ordinary spreadsheet" in error.message


def test_a_workbook_that_expands_past_the_limit_is_refused(settings: Any) -> None:
    content = bomb([["name", "product"], ["KTP", BIG]], size=3 * MB)
    settings.IMPORT_MAX_COMPRESSION_RATIO = 10_000  # the ratio alone would let it through
    settings.IMPORT_MAX_UNPACKED_BYTES = 2 * MB
    error = refusal(content, FileKind.XLSX)
    assert error.code == "unpacked_size" and "more than 2 MB" in error.message


def test_an_overlong_shared_string_names_its_line_before_openpyxl_builds_the_row(
    settings: Any,
) -> None:
    settings.IMPORT_MAX_COMPRESSION_RATIO = 10_000
    content = bomb([["name", "product"], ["KTP", "short"], ["KK", BIG]], size=2 * MB, shared=True)
    error = refusal(content, FileKind.XLSX)
    assert error.line == 3 and error.code == "cell_too_long"
    assert quoted(error.message) == "Kartu tanda penduduk elektronik. Kartu t"
    assert len(error.text) < 200


def test_an_overlong_inline_string_names_its_line() -> None:
    content = xlsx([["name", "product"], ["KTP", "Surat keterangan " * 1000]])
    assert "inlineStr" in zipfile.ZipFile(io.BytesIO(content)).read(SHEET).decode()
    error = refusal(content, FileKind.XLSX)
    assert error.line == 2 and quoted(error.message) == "Surat keterangan Surat keterangan Surat"


def test_a_row_wider_than_any_worksheet_is_refused_unbuilt() -> None:
    # 2 MB of XML (numbers that do not compress away); openpyxl would build the row whole.
    cells = "".join(f"<c><v>{n * 7919}</v></c>" for n in range(100_000))
    content = with_sheet(
        [["a"], ["b"]],
        lambda xml: re.sub(r'<row r="2"[^>]*>.*?</row>', f'<row r="2">{cells}</row>', xml),
    )
    error, peak, _seconds = measured_refusal(content, FileKind.XLSX)
    assert peak < 5 * MB
    assert error.line == 2 and error.code == "too_many_columns"


def test_xlsx_row_and_column_caps(settings: Any) -> None:
    settings.IMPORT_MAX_ROWS = 3
    settings.IMPORT_MAX_COLUMNS = 3
    assert len(read(xlsx([["a", "b", "c"], [1], [2]]), FileKind.XLSX)) == 3
    error = refusal(xlsx([["a"], [1], [2], [3]]), FileKind.XLSX)
    assert error.code == "too_many_rows" and "more than 3 rows" in error.message
    error = refusal(xlsx([["a", "b", "c"], [1, 2, 3, 4]]), FileKind.XLSX)
    assert error.line == 2 and "more than 3 columns" in error.message


def test_absurd_declared_dimensions_are_ignored() -> None:
    content = with_sheet(
        [["a", "b"], [1, 2]],
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml),
    )
    assert read(content, FileKind.XLSX) == [(1, ["a", "b"]), (2, ["1", "2"])]


def test_a_cell_with_control_characters_is_refused_with_its_line() -> None:
    content = b"nama,biaya\nKTP,0\nAkta\x07,5000\n"
    with pytest.raises(TableError) as refused:
        read(content)
    assert refused.value.line == 3
    assert refused.value.code == "control_character"
