"""A readable, field-by-field difference between two charter versions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from charter.models import Charter
from charter.services import CHARTER_FIELDS
from services.diff import FieldChange


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, int):
        return f"Rp {value:,}".replace(",", ".")
    return str(value)


def _services_text(charter: Charter) -> str:
    # Sorted in Python so that a prefetched list costs no query.
    names = sorted(s.name for s in charter.services.all())
    return "; ".join(names) or "—"


def charter_diff(old: Charter, new: Charter) -> list[FieldChange]:
    """The fields whose value differs between `old` and `new`, in the form's order."""
    labels = {f.name: str(f.verbose_name) for f in Charter._meta.fields}
    changes = [
        FieldChange(key, labels[key], _show(getattr(old, key)), _show(getattr(new, key)))
        for key in CHARTER_FIELDS
        if getattr(old, key) != getattr(new, key)
    ]
    before, after = _services_text(old), _services_text(new)
    if before != after:
        changes.append(FieldChange("services", _("Services covered"), before, after))
    return changes
