"""The file alone and against the database: every malformed case, with exact line numbers."""

from __future__ import annotations

from typing import Any

import pytest

from services.importing import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    FileKind,
    Issue,
    import_plan,
    parse_whole_number,
    table_parse,
)
from services.models import Service, StandardVersion
from tests.services.importing.helpers import csv_bytes, row, xlsx_bytes


def plan(agency: Any, user: Any, content: bytes, kind: FileKind = FileKind.CSV) -> Any:
    result = import_plan(agency=agency, user=user, content=content, kind=kind)
    # Planning never writes.
    assert Service.objects.count() == 0
    assert StandardVersion.objects.count() == 0
    return result


def where(issues: list[Issue]) -> list[tuple[int | None, str | None]]:
    return [(i.line, i.column) for i in issues]


@pytest.fixture
def editor(editor_a: Any, unit_a: Any) -> Any:
    return editor_a


# --- A good file --------------------------------------------------------------------


def test_good_file_parses_every_column(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, csv_bytes([row("ktp-el")]))
    assert result.issues == []
    assert result.ok
    parsed = result.rows[0].row
    assert parsed.line == 2
    assert parsed.service_fields == {
        "category": "population",
        "channels": ["counter", "online"],
        "keywords": "e-ktp",
    }
    assert parsed.data["processing_time_value"] == 5
    assert parsed.data["is_free"] is False
    assert parsed.data["facilities"] == ["waiting_room", "toilets"]
    assert parsed.data["legal_basis"] == ["UU 25/2009", "Perda 1/2020"]
    assert parsed.data["staff_count"] == 3
    assert parsed.children == {
        "requirements": [
            {"name": "KTP-el", "is_mandatory": True},
            {"name": "Surat kuasa", "is_mandatory": False},
        ],
        "steps": [
            {"actor": "Petugas", "description": "Memeriksa berkas"},
            {"actor": "Kepala unit", "description": "Menandatangani"},
        ],
        "cost_items": [
            {"name": "Retribusi", "amount": 10000, "legal_basis": "Perda 1/2020"},
            {"name": "Materai", "amount": 10000, "legal_basis": ""},
        ],
        "complaint_channels": [
            {"kind": "phone", "value": "022-000"},
            {"kind": "web", "value": "https://lapor.go.id"},
        ],
    }


def test_bom_semicolons_and_escapes_are_accepted(agency_a: Any, editor: Any) -> None:
    content = b"\xef\xbb\xbf" + csv_bytes(
        [
            row(
                requirements=r"Surat \| dokumen | \?Tanda tanya | ?Opsional",
                cost_items=r"Biaya a\=b=Rp 1.500.000,-=Perda = 2",
                steps=r"Loket\: depan: Menerima: berkas",
            )
        ],
        delimiter=";",
    )
    result = plan(agency_a, editor, content)
    assert result.issues == []
    children = result.rows[0].row.children
    assert children["requirements"] == [
        {"name": "Surat | dokumen", "is_mandatory": True},
        {"name": "?Tanda tanya", "is_mandatory": True},
        {"name": "Opsional", "is_mandatory": False},
    ]
    assert children["cost_items"] == [
        {"name": "Biaya a=b", "amount": 1500000, "legal_basis": "Perda = 2"}
    ]
    assert children["steps"] == [{"actor": "Loket: depan", "description": "Menerima: berkas"}]


def test_blank_optional_values_take_the_defaults(agency_a: Any, editor: Any) -> None:
    sparse = dict.fromkeys(COLUMNS, "") | {
        "service_slug": "baru",
        "service_name": "Baru",
        "unit_slug": "unit-a",
    }
    result = plan(agency_a, editor, csv_bytes([sparse]))
    assert result.issues == []
    parsed = result.rows[0].row
    assert parsed.service_fields["category"] == "other"
    assert parsed.data["processing_time_value"] is None
    assert parsed.data["processing_time_unit"] == "working_days"
    assert parsed.data["clock_start"] == "on_complete"
    assert parsed.data["is_free"] is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("15000", 15000),
        ("15.000", 15000),
        ("1,500,000", 1500000),
        ("Rp 10.000,-", 10000),
        ("Rp. 2.500", 2500),
        ("1,5", None),
        ("12.34", None),
        ("-5", None),
        ("abc", None),
        ("1.000,00", None),
        ("", None),
    ],
)
def test_whole_numbers(text: str, expected: int | None) -> None:
    assert parse_whole_number(text) == expected


# --- Header problems --------------------------------------------------------------------


def test_missing_and_unknown_columns_make_one_error_naming_them(agency_a: Any, editor: Any) -> None:
    columns = [c for c in COLUMNS if c not in ("steps", "decree_number")] + ["catatan"]
    result = plan(agency_a, editor, csv_bytes([row()], columns=columns))
    assert result.fatal
    assert where(result.issues) == [(1, None)]
    message = result.issues[0].message
    assert "steps" in message
    assert "decree_number" in message
    assert "catatan" in message
    assert result.rows == []


def test_header_names_ignore_case_and_spaces(agency_a: Any, editor: Any) -> None:
    columns = [f" {c.upper()} " for c in COLUMNS]
    content = csv_bytes([], columns=columns) + csv_bytes([row()])[len(",".join(COLUMNS)) + 2 :]
    result = plan(agency_a, editor, content)
    assert result.issues == []


def test_repeated_column_is_an_error(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, csv_bytes([row()], columns=[*COLUMNS, "product"]))
    assert where(result.issues) == [(1, None)]
    assert "product" in result.issues[0].message


# --- Bad values, with their line numbers ------------------------------------------------


def test_bad_numbers(agency_a: Any, editor: Any) -> None:
    content = csv_bytes(
        [
            row("a"),
            row("b", processing_time_value="lima"),
            row("c", staff_count="-2", cost_items="Retribusi=sepuluh ribu"),
            row("d", processing_time_value="99999999999"),
        ]
    )
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [
        (3, "processing_time_value"),
        (4, "cost_items"),
        (4, "staff_count"),
        (5, "processing_time_value"),
    ]
    assert not result.ok


def test_unknown_unit(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, csv_bytes([row("a"), row("b", unit_slug="unit-x")]))
    assert where(result.issues) == [(3, "unit_slug")]
    assert "unit-x" in result.issues[0].message


def test_unit_of_another_agency_is_unknown(agency_a: Any, editor: Any, unit_b: Any) -> None:
    result = plan(agency_a, editor, csv_bytes([row("a", unit_slug="unit-b")]))
    assert where(result.issues) == [(2, "unit_slug")]


def test_unknown_choice_values(agency_a: Any, editor: Any) -> None:
    content = csv_bytes(
        [
            row("a", category="perizinan"),
            row("b", channels="counter | fax"),
            row("c", processing_time_unit="weeks", clock_start="sometime"),
            row("d", facilities="pool"),
            row("e", complaint_channels="fax: 123"),
            row("f", is_free="maybe"),
        ]
    )
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [
        (2, "category"),
        (3, "channels"),
        (4, "processing_time_unit"),
        (4, "clock_start"),
        (5, "facilities"),
        (6, "complaint_channels"),
        (7, "is_free"),
    ]
    assert "perizinan" in result.issues[0].message
    assert "population" in result.issues[0].message  # names the allowed values


def test_malformed_entries(agency_a: Any, editor: Any) -> None:
    content = csv_bytes(
        [
            row("a", steps="Petugas memeriksa berkas"),
            row("b", complaint_channels="022-000"),
            row("c", cost_items="Retribusi"),
            row("d", requirements="?"),
            row("e", is_free="yes"),  # with cost items above zero
        ]
    )
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [
        (2, "steps"),
        (3, "complaint_channels"),
        (4, "cost_items"),
        (5, "requirements"),
        (6, "is_free"),
    ]


def test_required_values_and_bad_slug(agency_a: Any, editor: Any) -> None:
    content = csv_bytes(
        [
            row("", service_name=""),
            row("KTP EL"),
            row("c", unit_slug=""),
        ]
    )
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [
        (2, "service_slug"),
        (2, "service_name"),
        (3, "service_slug"),
        (4, "unit_slug"),
    ]


def test_model_limits_are_reported_on_their_column(agency_a: Any, editor: Any) -> None:
    content = csv_bytes(
        [
            row("a", decree_number="x" * 121),
            row("b", requirements="ok | " + "y" * 301),
            row("c", service_name="z" * 201),
        ]
    )
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [(2, "decree_number"), (3, "requirements"), (4, "service_name")]
    assert result.issues[1].message.startswith("Requirement 2: ")


def test_duplicate_service_slug(agency_a: Any, editor: Any) -> None:
    content = csv_bytes([row("a"), row("b"), row("a"), row("a")])
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [(4, "service_slug"), (5, "service_slug")]
    assert "line 2" in result.issues[0].message


def test_blank_rows_are_skipped_and_lines_still_counted(agency_a: Any, editor: Any) -> None:
    good = csv_bytes([row("a")])
    bad = csv_bytes([row("b", category="nope")]).split(b"\r\n", 1)[1]
    content = good + b",,,\r\n\r\n" + bad
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [(5, "category")]
    assert [r.line for r in result.rows] == [2, 5]


def test_extra_cells_beyond_the_header(agency_a: Any, editor: Any) -> None:
    content = csv_bytes([row("a")]).rstrip(b"\r\n") + b",surplus\r\n"
    result = plan(agency_a, editor, content)
    assert where(result.issues) == [(2, None)]


def test_unit_limited_editor_cannot_import_for_another_unit(agency_a: Any, unit_a: Any) -> None:
    from agencies.models import Role
    from tests import factories

    other: Any = factories.UnitFactory(agency=agency_a, slug="unit-a2")
    user = factories.UserFactory(username="unit_editor")
    factories.MembershipFactory(user=user, agency=agency_a, unit=other, role=Role.EDITOR)
    result = plan(agency_a, user, csv_bytes([row("a", unit_slug="unit-a2"), row("b")]))
    assert where(result.issues) == [(3, "unit_slug")]


# --- File-level problems ------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \r\n \n"])
def test_empty_file(agency_a: Any, editor: Any, content: bytes) -> None:
    result = plan(agency_a, editor, content)
    assert result.fatal
    assert where(result.issues) == [(None, None)]
    assert "empty" in result.issues[0].message


def test_file_without_data_rows(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, csv_bytes([]) + b",,,\r\n")
    assert result.fatal
    assert where(result.issues) == [(None, None)]
    assert "no data rows" in result.issues[0].message
    assert not result.ok


def test_too_many_rows(agency_a: Any, editor: Any) -> None:
    content = csv_bytes([row(f"s{n}") for n in range(MAX_ROWS + 1)])
    result = plan(agency_a, editor, content)
    assert result.fatal
    assert str(MAX_ROWS) in result.issues[0].message


def test_exactly_the_row_limit_is_accepted() -> None:
    content = csv_bytes([row(f"s{n}") for n in range(MAX_ROWS)])
    result = table_parse(content=content, kind=FileKind.CSV)
    assert not result.fatal
    assert result.issues == []
    assert len(result.rows) == MAX_ROWS


def test_too_big_file(agency_a: Any, editor: Any) -> None:
    content = csv_bytes([row("a", product="x" * (MAX_BYTES + 1))])
    result = plan(agency_a, editor, content)
    assert result.fatal
    assert "5 MB" in result.issues[0].message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1", "cp1252"])
def test_wrong_encoding(agency_a: Any, editor: Any, encoding: str) -> None:
    text = csv_bytes([row("a", product="Kartu tanda penduduk é ©")]).decode("utf-8")
    result = plan(agency_a, editor, text.encode(encoding))
    assert result.fatal
    assert where(result.issues) == [(None, None)]
    assert "UTF-8" in result.issues[0].message


@pytest.mark.parametrize(
    "content",
    [b"not a workbook", b"PK\x03\x04broken zip", csv_bytes([row("a")])],
)
def test_xlsx_that_is_not_an_xlsx(agency_a: Any, editor: Any, content: bytes) -> None:
    result = plan(agency_a, editor, content, FileKind.XLSX)
    assert result.fatal
    assert where(result.issues) == [(None, None)]
    assert ".xlsx" in result.issues[0].message


def test_xlsx_good_and_bad_rows(agency_a: Any, editor: Any) -> None:
    content = xlsx_bytes(
        [row("a"), row("b", processing_time_value=7), row("c", staff_count="banyak")]
    )
    result = plan(agency_a, editor, content, FileKind.XLSX)
    assert where(result.issues) == [(4, "staff_count")]
    assert result.rows[1].row.data["processing_time_value"] == 7


def test_xlsx_header_only(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, xlsx_bytes([]), FileKind.XLSX)
    assert result.fatal
    assert "no data rows" in result.issues[0].message


def test_header_must_be_on_line_1(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, b",,\r\n" + csv_bytes([row("a")]))
    assert result.fatal
    assert where(result.issues) == [(1, None)]


def test_workbook_named_csv(agency_a: Any, editor: Any) -> None:
    result = plan(agency_a, editor, xlsx_bytes([row("a")]))
    assert result.fatal
    assert ".xlsx" in result.issues[0].message


def test_unreadable_csv_line(agency_a: Any, editor: Any) -> None:
    content = csv_bytes([row("a"), row("b", product="x" * 200_000)])
    result = plan(agency_a, editor, content)
    assert result.fatal
    assert where(result.issues) == [(3, None)]
