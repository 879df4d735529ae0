"""Building import files in tests."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

from services.importing import COLUMNS


def row(slug: str = "ktp-el", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_slug": slug,
        "service_name": f"Layanan {slug}",
        "unit_slug": "unit-a",
        "category": "population",
        "channels": "counter | online",
        "keywords": "e-ktp",
        "processing_time_value": "5",
        "processing_time_unit": "working_days",
        "clock_start": "on_complete",
        "is_free": "no",
        "cost_items": "Retribusi=10.000=Perda 1/2020 | Materai=10,000",
        "requirements": "KTP-el | ?Surat kuasa",
        "steps": "Petugas: Memeriksa berkas | Kepala unit: Menandatangani",
        "complaint_channels": "phone: 022-000 | web: https://lapor.go.id",
        "product": "Dokumen",
        "legal_basis": "UU 25/2009 | Perda 1/2020",
        "facilities": "waiting_room | toilets",
        "facilities_note": "Ruang tunggu ber-AC",
        "staff_competence": "Terlatih",
        "internal_supervision": "Atasan langsung",
        "staff_count": "3",
        "service_guarantee": "Sesuai maklumat",
        "safety_security": "Aman",
        "performance_evaluation": "Triwulanan",
        "decree_number": "800/12/2024",
    }
    values.update(overrides)
    return values


def csv_bytes(
    rows: list[dict[str, Any]], *, columns: tuple[str, ...] | list[str] = COLUMNS, **kw: Any
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, **kw)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict[str, Any]], *, columns: tuple[str, ...] = COLUMNS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(columns))
    for r in rows:
        sheet.append([r.get(c, "") for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
