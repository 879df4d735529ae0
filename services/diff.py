"""A readable, field-by-field difference between two standard versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from services.models import (
    ClockStart,
    ComplaintChannelKind,
    Facility,
    StandardVersion,
    TimeUnit,
)
from services.services import CONTENT_FIELDS, version_content

_CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "processing_time_unit": dict(TimeUnit.choices),
    "clock_start": dict(ClockStart.choices),
    "duration_unit": dict(TimeUnit.choices),
    "kind": dict(ComplaintChannelKind.choices),
}


@dataclass
class FieldChange:
    key: str
    label: str
    old: str
    new: str


@dataclass
class RowsChange:
    key: str
    label: str
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    fields: list[FieldChange]
    rows: list[RowsChange]

    @property
    def is_empty(self) -> bool:
        return not self.fields and not self.rows


def _show(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "facilities":
        labels = dict(Facility.choices)
        return ", ".join(str(labels.get(v, v)) for v in value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if key in _CHOICE_LABELS:
        return str(_CHOICE_LABELS[key].get(value, value))
    return str(value)


def _row_text(relation: str, row: dict[str, Any]) -> str:
    if relation == "requirements":
        text = row["name"] + ("" if row.get("is_mandatory", True) else f" ({_('optional')})")
        extras = [row.get("where_to_get"), row.get("copies"), row.get("legal_basis")]
        return " · ".join([text, *[e for e in extras if e]])
    if relation == "steps":
        duration = (
            f" ({row['duration_value']} {_show('duration_unit', row['duration_unit'])})"
            if row.get("duration_value")
            else ""
        )
        return f"{row['actor']}: {row['description']}{duration}"
    if relation == "cost_items":
        basis = f" · {row['legal_basis']}" if row.get("legal_basis") else ""
        return f"{row['name']}: Rp {row['amount']:,}".replace(",", ".") + basis
    return f"{_show('kind', row['kind'])}: {row['value']}"


def version_diff(old: StandardVersion, new: StandardVersion) -> VersionDiff:
    old_data, old_children = version_content(old)
    new_data, new_children = version_content(new)
    labels = {f.name: str(f.verbose_name) for f in StandardVersion._meta.fields}
    fields = [
        FieldChange(key, labels.get(key, key), _show(key, old_data[key]), _show(key, new_data[key]))
        for key in CONTENT_FIELDS
        if old_data[key] != new_data[key]
    ]
    relation_labels = {
        "requirements": _("Requirements"),
        "steps": _("Procedure"),
        "cost_items": _("Cost"),
        "complaint_channels": _("Complaint channels"),
    }
    rows = []
    for relation, label in relation_labels.items():
        before = [_row_text(relation, r) for r in old_children[relation]]
        after = [_row_text(relation, r) for r in new_children[relation]]
        if before == after:
            continue
        rows.append(
            RowsChange(
                relation,
                label,
                removed=[r for r in before if r not in after],
                added=[r for r in after if r not in before],
            )
        )
        if not rows[-1].removed and not rows[-1].added:
            # Same rows, new order.
            rows[-1].removed, rows[-1].added = before, after
    return VersionDiff(fields, rows)
