"""The table an import reads: its columns and their help, the values a cell may hold, the
syntax inside a cell, the limits, and the shape of a problem found in it (`Issue`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ApplicationError
from services import services as writes
from services.models import (
    Channel,
    ClockStart,
    ComplaintChannel,
    ComplaintChannelKind,
    CostItem,
    Facility,
    ProcedureStep,
    Requirement,
    ServiceCategory,
    TimeUnit,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
# Spreadsheets often carry formatted but empty rows; stop reading well after the data.
MAX_PHYSICAL_ROWS = MAX_ROWS * 10
LIST_SEPARATOR = "|"
ESCAPE = "\\"
ESCAPABLE = frozenset("\\|=:?")
# Leading characters that make a spreadsheet read a cell as a formula; the export
# guards them with an apostrophe, which the import removes again.
FORMULA_STARTS = frozenset("=+-@\t\r")

COLUMNS: tuple[str, ...] = (
    "service_slug",
    "service_name",
    "unit_slug",
    "category",
    "channels",
    "keywords",
    "processing_time_value",
    "processing_time_unit",
    "clock_start",
    "is_free",
    "cost_items",
    "requirements",
    "steps",
    "complaint_channels",
    "product",
    "legal_basis",
    "facilities",
    "facilities_note",
    "staff_competence",
    "internal_supervision",
    "staff_count",
    "service_guarantee",
    "safety_security",
    "performance_evaluation",
    "decree_number",
)

COLUMN_HELP: dict[str, Any] = {
    "service_slug": gettext_lazy(
        "Required. The service's short name in web addresses: lowercase letters, digits and "
        "hyphens. A new slug creates a new service."
    ),
    "service_name": gettext_lazy("Required. The name of the service."),
    "unit_slug": gettext_lazy("Required. The slug of the responsible unit of your agency."),
    "category": gettext_lazy("One of: %(values)s. Empty: other."),
    "channels": gettext_lazy("Any of: %(values)s, separated by |."),
    "keywords": gettext_lazy("Other names citizens use."),
    "processing_time_value": gettext_lazy("A whole number."),
    "processing_time_unit": gettext_lazy("One of: %(values)s. Empty: working_days."),
    "clock_start": gettext_lazy("One of: %(values)s. Empty: on_complete."),
    "is_free": gettext_lazy("yes or no (also true/false, 1/0)."),
    "cost_items": gettext_lazy(
        "Entries “name=amount=legal basis” separated by |; the amount in whole rupiah "
        "(1.000.000 and 1,000,000 are accepted)."
    ),
    "requirements": gettext_lazy(
        "Requirements separated by |; start one with ? when it is optional."
    ),
    "steps": gettext_lazy("Steps “who: what happens” separated by |, in order."),
    "complaint_channels": gettext_lazy(
        "Entries “kind: contact” separated by |; kind one of: %(values)s."
    ),
    "product": gettext_lazy("What the citizen receives."),
    "legal_basis": gettext_lazy("Regulations separated by |."),
    "facilities": gettext_lazy("Any of: %(values)s, separated by |."),
    "facilities_note": gettext_lazy("Other facilities, as text."),
    "staff_competence": gettext_lazy("Text."),
    "internal_supervision": gettext_lazy("Text."),
    "staff_count": gettext_lazy("A whole number."),
    "service_guarantee": gettext_lazy("Text."),
    "safety_security": gettext_lazy("Text."),
    "performance_evaluation": gettext_lazy("Text."),
    "decree_number": gettext_lazy("The number of the decree (nomor SK) that set the standard."),
}

CHOICES: dict[str, Sequence[str]] = {
    "category": ServiceCategory.values,
    "channels": Channel.values,
    "processing_time_unit": TimeUnit.values,
    "clock_start": ClockStart.values,
    "complaint_channels": ComplaintChannelKind.values,
    "facilities": Facility.values,
}

# The version content the table carries (the rest of a version is kept or left empty).
TEXT_FIELDS: tuple[str, ...] = (
    "product",
    "facilities_note",
    "staff_competence",
    "internal_supervision",
    "service_guarantee",
    "safety_security",
    "performance_evaluation",
    "decree_number",
)
# Fields a new version never inherits from the table (set when the version is published).
_NOT_IN_TABLE = frozenset({"change_summary", "decree_date", "effective_date"})
DATA_FIELDS: tuple[str, ...] = tuple(f for f in writes.CONTENT_FIELDS if f not in _NOT_IN_TABLE)
CHILD_COLUMNS: dict[str, tuple[str, ...]] = {
    "requirements": ("name", "is_mandatory"),
    "steps": ("actor", "description"),
    "cost_items": ("name", "amount", "legal_basis"),
    "complaint_channels": ("kind", "value"),
}
# Child fields the table does not carry: kept from the matching row of the version
# the import starts from, so that a round trip through the table changes nothing.
CHILD_EXTRAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "requirements": (("name",), ("where_to_get", "copies", "legal_basis")),
    "steps": (("actor", "description"), ("duration_value", "duration_unit")),
}
CHILD_MODELS: dict[str, Any] = {
    "requirements": Requirement,
    "steps": ProcedureStep,
    "cost_items": CostItem,
    "complaint_channels": ComplaintChannel,
}
SERVICE_COLUMNS: dict[str, str] = {
    "name": "service_name",
    "slug": "service_slug",
    "category": "category",
    "channels": "channels",
    "keywords": "keywords",
    "unit": "unit_slug",
}


@dataclass(frozen=True)
class Issue:
    """One problem in the file: `line` 1 is the header row, None the file as a whole."""

    line: int | None
    column: str | None
    message: str


class ImportRefusedError(ApplicationError):
    """The file has errors: nothing was written."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(_("The file has errors; nothing was imported."), code="import_refused")
        self.issues = issues
