"""Export an agency's service standards as the flat table that services.importing reads.

Export then import changes no content: every value is written the way the import
parses it, with separators inside values escaped by a backslash.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet

from agencies.models import Agency
from agencies.policy import Action, scope
from services.importing import COLUMNS, ESCAPE, FORMULA_STARTS, LIST_SEPARATOR
from services.models import EDITABLE_STATUSES, Service, StandardVersion, VersionStatus
from services.selectors import VERSION_CHILDREN


def _escape(text: str, specials: str = "") -> str:
    """Escape the backslash, the list separator and `specials` so the import reads them back."""
    text = str(text).replace(ESCAPE, ESCAPE * 2)
    for char in LIST_SEPARATOR + specials:
        text = text.replace(char, ESCAPE + char)
    return text


def _join(entries: Iterable[str]) -> str:
    return f" {LIST_SEPARATOR} ".join(entries)


def _requirement(item: Any) -> str:
    name = _escape(item.name)
    if name.startswith("?"):
        name = ESCAPE + name
    return name if item.is_mandatory else f"?{name}"


def _cost_item(item: Any) -> str:
    parts = [_escape(item.name, "="), str(item.amount)]
    if item.legal_basis:
        parts.append(_escape(item.legal_basis))
    return "=".join(parts)


def version_row(service: Service, version: StandardVersion) -> dict[str, Any]:
    """One table row: text everywhere, whole numbers (or None) for the two number columns."""
    return {
        "service_slug": service.slug,
        "service_name": service.name,
        "unit_slug": service.unit.slug,
        "category": service.category,
        "channels": _join(service.channels or []),
        "keywords": service.keywords,
        "processing_time_value": version.processing_time_value,
        "processing_time_unit": version.processing_time_unit,
        "clock_start": version.clock_start,
        "is_free": "yes" if version.is_free else "no",
        "cost_items": _join(_cost_item(c) for c in version.cost_items.all()),
        "requirements": _join(_requirement(r) for r in version.requirements.all()),
        "steps": _join(
            f"{_escape(s.actor, ':')}: {_escape(s.description)}" for s in version.steps.all()
        ),
        "complaint_channels": _join(
            f"{c.kind}: {_escape(c.value)}" for c in version.complaint_channels.all()
        ),
        "product": version.product,
        "legal_basis": _join(_escape(x) for x in version.legal_basis or []),
        "facilities": _join(version.facilities or []),
        "facilities_note": version.facilities_note,
        "staff_competence": version.staff_competence,
        "internal_supervision": version.internal_supervision,
        "staff_count": version.staff_count,
        "service_guarantee": version.service_guarantee,
        "safety_security": version.safety_security,
        "performance_evaluation": version.performance_evaluation,
        "decree_number": version.decree_number,
    }


def export_services(*, agency: Agency, user: Any) -> QuerySet[Service]:
    """The agency's services the user may see, with their published and draft versions."""
    versions = (
        StandardVersion.objects.filter(status__in=[VersionStatus.PUBLISHED, *EDITABLE_STATUSES])
        .prefetch_related(*VERSION_CHILDREN)
        .order_by("-number")
    )
    return (
        scope(user, Service.objects.filter(agency=agency), Action.VIEW_PRIVATE)
        .select_related("unit")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="export_versions"))
        .order_by("name", "slug")
    )


def export_rows(*, agency: Agency, user: Any, drafts: bool = False) -> list[dict[str, Any]]:
    """A row per service: its published version, or with `drafts` its draft in progress."""
    rows = []
    for service in export_services(agency=agency, user=user):
        versions: list[StandardVersion] = service.export_versions  # type: ignore[attr-defined]
        published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        draft = next((v for v in versions if v.status in EDITABLE_STATUSES), None)
        version = (draft or published) if drafts else published
        if version is not None:
            rows.append(version_row(service, version))
    return rows


def _guard_formula(value: str) -> str:
    # Spreadsheets run cells starting with "=" and the like as formulas; the import
    # removes the apostrophe again.
    return f"'{value}" if value and value[0] in FORMULA_STARTS else value


def export_csv(*, agency: Agency, user: Any, drafts: bool = False) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheets detect the encoding."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in export_rows(agency=agency, user=user, drafts=drafts):
        writer.writerow([_guard_formula("" if row[c] is None else str(row[c])) for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(*, agency: Agency, user: Any, drafts: bool = False) -> bytes:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "standards"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for r, row in enumerate(export_rows(agency=agency, user=user, drafts=drafts), start=2):
        for c, column in enumerate(COLUMNS, start=1):
            value = row[column]
            cell = sheet.cell(row=r, column=c)
            if value is None or value == "":
                continue
            if isinstance(value, str):
                # XML cannot hold control characters (pasted from word processors).
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                # Text stays text: a value starting with "=" must not become a formula.
                cell.data_type = "s"
            else:
                cell.value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
