"""Writing an import: drafts only, all or nothing, and export -> import changes nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from services import services as writes
from services.exporting import export_csv, export_rows, export_xlsx
from services.importing import (
    COLUMNS,
    FileKind,
    ImportRefusedError,
    RowAction,
    import_apply,
    import_plan,
)
from services.models import Service, StandardVersion, VersionStatus
from tests.factories import complete_version_data
from tests.services.importing.helpers import csv_bytes, row

# Content the table does not carry, or that a new version never inherits.
NOT_CARRIED = ("change_summary", "decree_date", "effective_date")


def content_of(version: StandardVersion) -> tuple[dict[str, Any], dict[str, Any]]:
    data, children = writes.version_content(StandardVersion.objects.get(pk=version.pk))
    for key in NOT_CARRIED:
        data.pop(key)
    return data, children


def counts() -> tuple[int, int]:
    return Service.objects.count(), StandardVersion.objects.count()


def publish(service: Any, user: Any, **overrides: Any) -> StandardVersion:
    data, children = complete_version_data(**overrides.pop("data", {}))
    children.update(overrides.pop("children", {}))
    draft = writes.standard_draft_create(
        service=service, acting_user=user, data=data, children=children
    )
    return writes.standard_publish(
        version=draft,
        acting_user=user,
        decree_number=data.get("decree_number") or "SK 1/2024",
        acknowledge_incomplete=True,
    )


@pytest.fixture
def published_service(agency_a: Any, unit_a: Any, approver_a: Any) -> Any:
    service = writes.service_create(
        agency=agency_a,
        unit=unit_a,
        name="KTP Elektronik",
        slug="ktp-el",
        category="population",
        channels=["counter"],
        acting_user=approver_a,
    )
    publish(service, approver_a)
    return service


def test_import_creates_services_and_drafts(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    content = csv_bytes([row("ktp-el"), row("akta-lahir", is_free="yes", cost_items="")])
    result = import_apply(agency=agency_a, acting_user=editor_a, content=content, kind=FileKind.CSV)
    assert (result.services_created, result.drafts_created, result.drafts_updated) == (2, 2, 0)
    service = Service.objects.get(agency=agency_a, slug="ktp-el")
    assert service.name == "Layanan ktp-el"
    assert service.unit == unit_a
    assert service.channels == ["counter", "online"]
    version = service.versions.get()
    assert version.status == VersionStatus.DRAFT
    assert version.number == 1
    assert version.created_by == editor_a
    assert version.processing_time_value == 5
    assert version.total_cost == 20000
    assert version.decree_number == "800/12/2024"
    assert [r.name for r in version.requirements.all()] == ["KTP-el", "Surat kuasa"]
    assert [r.is_mandatory for r in version.requirements.all()] == [True, False]
    assert [(s.actor, s.position) for s in version.steps.all()] == [
        ("Petugas", 1),
        ("Kepala unit", 2),
    ]
    free = Service.objects.get(slug="akta-lahir").versions.get()
    assert free.is_free
    assert free.total_cost == 0
    # Nothing is ever published by an import.
    assert not StandardVersion.objects.filter(status=VersionStatus.PUBLISHED).exists()


def test_existing_service_gets_a_new_draft_and_the_published_version_stays(
    agency_a: Any, editor_a: Any, published_service: Any
) -> None:
    published = published_service.versions.get()
    before = content_of(published)
    plan = import_plan(
        agency=agency_a,
        user=editor_a,
        content=csv_bytes([row("ktp-el", service_name="KTP-el")]),
        kind=FileKind.CSV,
    )
    assert plan.rows[0].action == RowAction.NEW_DRAFT
    assert "name" in plan.rows[0].service_changes
    assert plan.rows[0].content_changes  # the row differs from the published version
    import_apply(
        agency=agency_a,
        acting_user=editor_a,
        content=csv_bytes([row("ktp-el", service_name="KTP-el")]),
        kind=FileKind.CSV,
    )
    published.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED
    assert content_of(published) == before
    draft = published_service.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT
    assert draft.processing_time_value == 5
    published_service.refresh_from_db()
    assert published_service.name == "KTP-el"


def test_draft_in_progress_is_updated_in_place(
    agency_a: Any, editor_a: Any, published_service: Any
) -> None:
    draft = writes.standard_new_version(
        version=published_service.versions.get(), acting_user=editor_a
    )
    plan = import_plan(
        agency=agency_a,
        user=editor_a,
        content=csv_bytes([row("ktp-el", processing_time_value="9")]),
        kind=FileKind.CSV,
    )
    assert plan.rows[0].action == RowAction.UPDATE_DRAFT
    assert plan.rows[0].draft_number == 2
    result = import_apply(
        agency=agency_a,
        acting_user=editor_a,
        content=csv_bytes([row("ktp-el", processing_time_value="9")]),
        kind=FileKind.CSV,
    )
    assert result.drafts_updated == 1
    assert published_service.versions.count() == 2
    draft.refresh_from_db()
    assert draft.processing_time_value == 9
    assert draft.status == VersionStatus.DRAFT


def test_one_bad_row_among_good_ones_writes_nothing(
    agency_a: Any, editor_a: Any, published_service: Any
) -> None:
    before = counts()
    content = csv_bytes(
        [row("a"), row("b"), row("ktp-el"), row("c", clock_start="later"), row("d")]
    )
    with pytest.raises(ImportRefusedError) as refused:
        import_apply(agency=agency_a, acting_user=editor_a, content=content, kind=FileKind.CSV)
    assert [(i.line, i.column) for i in refused.value.issues] == [(5, "clock_start")]
    assert counts() == before
    assert not Service.objects.filter(slug__in=["a", "b", "d"]).exists()


def test_confirmation_checks_the_database_again(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    from tests import factories

    other: Any = factories.UnitFactory(agency=agency_a, slug="unit-a2")
    content = csv_bytes([row("a"), row("b", unit_slug="unit-a2")])
    assert import_plan(agency=agency_a, user=editor_a, content=content, kind=FileKind.CSV).ok
    other.delete()  # between preview and confirmation
    with pytest.raises(ImportRefusedError) as refused:
        import_apply(agency=agency_a, acting_user=editor_a, content=content, kind=FileKind.CSV)
    assert [(i.line, i.column) for i in refused.value.issues] == [(3, "unit_slug")]
    assert counts() == (0, 0)


def test_import_refuses_a_user_who_may_not_edit(agency_a: Any, unit_a: Any, admin_a: Any) -> None:
    with pytest.raises(ImportRefusedError):
        import_apply(
            agency=agency_a, acting_user=admin_a, content=csv_bytes([row()]), kind=FileKind.CSV
        )
    assert counts() == (0, 0)


# --- Round trip ---------------------------------------------------------------------------


@pytest.fixture
def rich_agency(agency_a: Any, unit_a: Any, approver_a: Any) -> Any:
    """Published standards with every separator and spreadsheet trap in their values."""
    from tests import factories

    unit_2: Any = factories.UnitFactory(agency=agency_a, slug="unit-a2")
    first = writes.service_create(
        agency=agency_a,
        unit=unit_a,
        name="Izin | usaha: mikro",
        slug="izin-usaha",
        category="licensing",
        channels=["online", "counter"],
        keywords="NIB, OSS",
        acting_user=approver_a,
    )
    publish(
        first,
        approver_a,
        data={
            "is_free": False,
            "processing_time_value": 14,
            "processing_time_unit": "calendar_days",
            "clock_start": "on_receipt",
            "product": '=HYPERLINK("x") and a\nsecond line',
            "legal_basis": ["PP 5/2021 | Pasal 3", "Perda 2\\2020", "-minus"],
            "facilities": ["disability_access", "parking"],
            "facilities_note": "+62 ramp",
            "staff_count": None,
            "decree_number": "@800/1",
        },
        children={
            "requirements": [
                {"name": "?Formulir", "where_to_get": "Loket 1", "copies": "2 lembar"},
                {"name": "NPWP | NIK", "is_mandatory": False, "legal_basis": "UU 7/2021"},
                {"name": "Akta = pendirian\\usaha"},
            ],
            "steps": [
                {
                    "actor": "Petugas: loket",
                    "description": "Memeriksa | mencatat: berkas",
                    "duration_value": 15,
                    "duration_unit": "minutes",
                },
                {"actor": "Kepala", "description": "Menandatangani"},
            ],
            "cost_items": [
                {"name": "Retribusi = izin", "amount": 1500000, "legal_basis": "Perda 1=2"},
                {"name": "Materai", "amount": 10000, "legal_basis": ""},
            ],
            "complaint_channels": [
                {"kind": "web", "value": "https://lapor.go.id/a|b"},
                {"kind": "whatsapp", "value": "0812: 555"},
            ],
        },
    )
    second = writes.service_create(
        agency=agency_a, unit=unit_2, name="Akta kelahiran", acting_user=approver_a
    )
    publish(second, approver_a)
    return agency_a


def _round_trip(agency: Any, editor: Any, content: bytes, kind: FileKind) -> None:
    services = list(Service.objects.filter(agency=agency).order_by("pk"))
    published = {s.pk: s.versions.get(status=VersionStatus.PUBLISHED) for s in services}
    service_fields = {
        s.pk: (s.name, s.unit_id, s.category, s.channels, s.keywords) for s in services
    }
    plan = import_plan(agency=agency, user=editor, content=content, kind=kind)
    assert plan.issues == []
    assert [r.content_changes for r in plan.rows] == [[], []]
    assert [r.service_changes for r in plan.rows] == [[], []]
    result = import_apply(agency=agency, acting_user=editor, content=content, kind=kind)
    assert result.drafts_created == 2
    assert result.services_created == 0
    for service in services:
        draft = service.versions.get(status=VersionStatus.DRAFT)
        assert draft.number == 2
        assert content_of(draft) == content_of(published[service.pk])
        service.refresh_from_db()
        assert (
            service.name,
            service.unit_id,
            service.category,
            service.channels,
            service.keywords,
        ) == service_fields[service.pk]


def test_round_trip_csv(rich_agency: Any, editor_a: Any) -> None:
    content = export_csv(agency=rich_agency, user=editor_a)
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 3
    # Cells a spreadsheet would run as formulas are guarded.
    izin = dict(zip(COLUMNS, rows[2], strict=True))
    assert izin["product"].startswith("'=")
    assert izin["decree_number"] == "'@800/1"
    _round_trip(rich_agency, editor_a, content, FileKind.CSV)


def test_round_trip_xlsx(rich_agency: Any, editor_a: Any) -> None:
    content = export_xlsx(agency=rich_agency, user=editor_a)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.active
    assert sheet is not None
    assert tuple(c.value for c in sheet[1]) == COLUMNS
    # Text stays text, never a formula.
    assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)
    _round_trip(rich_agency, editor_a, content, FileKind.XLSX)


def test_round_trip_of_an_edited_export_changes_only_the_edit(
    rich_agency: Any, editor_a: Any
) -> None:
    rows = export_rows(agency=rich_agency, user=editor_a)
    assert [r["service_slug"] for r in rows] == ["akta-kelahiran", "izin-usaha"]
    rows[1]["processing_time_value"] = 3
    rows[1]["requirements"] += " | Surat baru"
    rows[0]["service_name"] = "Akta Kelahiran Anak"
    plan = import_plan(
        agency=rich_agency, user=editor_a, content=csv_bytes(rows), kind=FileKind.CSV
    )
    assert plan.issues == []
    assert [r.content_changes for r in plan.rows] == [[], ["processing time", "requirements"]]
    assert [r.service_changes for r in plan.rows] == [["name"], []]


def test_export_with_drafts(rich_agency: Any, editor_a: Any) -> None:
    service = Service.objects.get(slug="izin-usaha")
    draft = writes.standard_new_version(
        version=service.versions.get(status=VersionStatus.PUBLISHED), acting_user=editor_a
    )
    writes.standard_draft_update(
        version=draft, acting_user=editor_a, data={"processing_time_value": 2}
    )
    by_slug = {r["service_slug"]: r for r in export_rows(agency=rich_agency, user=editor_a)}
    assert by_slug["izin-usaha"]["processing_time_value"] == 14
    drafts = {
        r["service_slug"]: r for r in export_rows(agency=rich_agency, user=editor_a, drafts=True)
    }
    assert drafts["izin-usaha"]["processing_time_value"] == 2
    assert set(drafts) == set(by_slug)


def test_export_leaves_out_services_without_a_published_version(
    agency_a: Any, unit_a: Any, editor_a: Any
) -> None:
    service = writes.service_create(agency=agency_a, unit=unit_a, name="Baru", acting_user=editor_a)
    writes.standard_draft_create(service=service, acting_user=editor_a)
    assert export_rows(agency=agency_a, user=editor_a) == []
    assert len(export_rows(agency=agency_a, user=editor_a, drafts=True)) == 1
