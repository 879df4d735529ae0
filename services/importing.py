"""Import service standards from one flat table (CSV or XLSX): parse, validate, apply.

One row per service standard, one header row with the names in `COLUMNS`. Import
never publishes: each row creates the service when its slug is new in the agency,
then either a new draft version or, when the service already has a draft in
progress, an update of that draft. Everything goes through services.services.

Three steps, each callable on its own:
- `table_parse(content=..., kind=...)`: the file alone (format, encoding, header, values);
- `import_plan(agency=..., user=..., content=..., kind=...)`: the file against the
  database (units, permissions, what each row would do), writing nothing;
- `import_apply(...)`: plans again and writes every row in one transaction, or nothing.

Between preview and confirmation the uploaded bytes are kept on the server as a waiting
import job of their uploader (`import_stage`, imports.ImportJob); confirmation claims the
job, so that it is applied once.
"""

from __future__ import annotations

import enum
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Agency, Unit
from agencies.policy import Action, can
from core.errors import ApplicationError
from core.tabular import FileKind, TableError, open_table
from imports.models import ImportJob, ImportKind, ImportState
from imports.services import (
    import_job_claim,
    import_job_create,
    import_job_discard_upload,
    import_job_fail,
    import_job_finish,
    import_job_release,
    import_jobs_trim,
    job_file,
    upload_store,
)
from services import services as writes
from services.models import (
    EDITABLE_STATUSES,
    Channel,
    ClockStart,
    ComplaintChannel,
    ComplaintChannelKind,
    CostItem,
    Facility,
    ProcedureStep,
    Requirement,
    Service,
    ServiceCategory,
    StandardVersion,
    TimeUnit,
    VersionStatus,
)
from services.selectors import VERSION_CHILDREN

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

_CHOICES: dict[str, Sequence[str]] = {
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
_CHILD_EXTRAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "requirements": (("name",), ("where_to_get", "copies", "legal_basis")),
    "steps": (("actor", "description"), ("duration_value", "duration_unit")),
}
_CHILD_MODELS: dict[str, Any] = {
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


@dataclass
class RowData:
    line: int
    service_slug: str
    service_name: str
    unit_slug: str
    service_fields: dict[str, Any]  # category, channels, keywords
    data: dict[str, Any]  # version content (DATA_FIELDS)
    children: dict[str, list[dict[str, Any]]]


@dataclass
class ParseResult:
    rows: list[RowData] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # A problem with the file as a whole: no row could be read.
    fatal: bool = False


class RowAction(enum.StrEnum):
    CREATE_SERVICE = "create_service"
    NEW_DRAFT = "new_draft"
    UPDATE_DRAFT = "update_draft"


@dataclass
class PlannedRow:
    line: int
    service_slug: str
    service_name: str
    action: RowAction
    draft_number: int | None = None
    draft_status: str = ""
    service_changes: list[str] = field(default_factory=list)
    content_changes: list[str] = field(default_factory=list)
    # Resolved objects, for import_apply.
    row: RowData | None = field(default=None, repr=False)
    unit: Unit | None = field(default=None, repr=False)
    service: Service | None = field(default=None, repr=False)
    draft: StandardVersion | None = field(default=None, repr=False)
    base: StandardVersion | None = field(default=None, repr=False)


@dataclass
class ImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    fatal: bool = False

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.rows)

    def count(self, action: RowAction) -> int:
        return sum(1 for r in self.rows if r.action == action)


class ImportRefusedError(ApplicationError):
    """The file has errors: nothing was written."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(_("The file has errors; nothing was imported."), code="import_refused")
        self.issues = issues


class _FileError(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


# --- Reading the table ----------------------------------------------------------------


def _too_many_rows() -> _FileError:
    return _FileError(
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


def _read_table(content: bytes, kind: FileKind) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows (with their line numbers)."""
    if len(content) > MAX_BYTES:
        raise _FileError(
            Issue(
                None,
                None,
                _("The file is larger than %(max)d MB; split it into smaller files.")
                % {"max": MAX_BYTES // (1024 * 1024)},
            )
        )
    if not content.strip():
        raise _FileError(Issue(None, None, _("The file is empty.")))
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
        raise _FileError(Issue(error.line, None, error.message)) from None
    if header is None:
        raise _FileError(Issue(None, None, _("The file is empty.")))
    if not any(header):
        raise _FileError(
            Issue(1, None, _("The first line must be the header row, with the column names."))
        )
    return header, rows


def _check_header(header: list[str]) -> dict[str, int]:
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
        raise _FileError(Issue(1, None, " ".join(parts)))
    return positions


# --- Values inside a cell ---------------------------------------------------------------


def _split(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """Split on separators not escaped by a backslash; escapes are kept for later splits."""
    parts: list[str] = []
    buffer: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == ESCAPE and i + 1 < len(text) and text[i + 1] in ESCAPABLE:
            buffer.append(text[i : i + 2])
            i += 2
            continue
        if char == separator and (maxsplit < 0 or len(parts) < maxsplit):
            parts.append("".join(buffer))
            buffer = []
        else:
            buffer.append(char)
        i += 1
    parts.append("".join(buffer))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\|=:?])", r"\1", text).strip()


def _entries(text: str) -> list[str]:
    """The non-empty entries of a "|"-separated cell, still escaped."""
    return [part.strip() for part in _split(text, LIST_SEPARATOR) if part.strip()]


def parse_whole_number(text: str) -> int | None:
    """A whole number, with "." or "," as thousand separators ("Rp 1.500.000,-")."""
    cleaned = re.sub(r"^rp\.?", "", text.strip(), flags=re.IGNORECASE)
    cleaned = re.sub(r"[.,]-$", "", cleaned.replace(" ", ""))
    if re.fullmatch(r"\d+", cleaned):
        return int(cleaned)
    # Separators must group by three, so that "1,5" is not read as fifteen.
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", cleaned):
        return int(re.sub(r"[.,]", "", cleaned))
    return None


_BOOLEANS = {
    "yes": True,
    "no": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "ya": True,
    "tidak": False,
}


class _RowParser:
    def __init__(self, line: int, values: Mapping[str, str]) -> None:
        self.line = line
        self.values = values
        self.issues: list[Issue] = []

    def error(self, column: str, message: str) -> None:
        self.issues.append(Issue(self.line, column, message))

    def text(self, column: str) -> str:
        return self.values.get(column, "")

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            self.error(column, _("This value is required."))
        return value

    def choice(self, column: str, default: str) -> str:
        value = self.text(column).lower()
        if not value:
            return default
        if value not in _CHOICES[column]:
            self.error(column, self._unknown(value, _CHOICES[column]))
            return default
        return value

    def choices(self, column: str) -> list[str]:
        result: list[str] = []
        for entry in _entries(self.text(column)):
            value = _unescape(entry).lower()
            if value not in _CHOICES[column]:
                self.error(column, self._unknown(value, _CHOICES[column]))
            elif value not in result:
                result.append(value)
        return result

    def _unknown(self, value: str, allowed: Sequence[str]) -> str:
        return _("Unknown value “%(value)s”; use one of: %(allowed)s.") % {
            "value": value,
            "allowed": ", ".join(allowed),
        }

    def number(self, column: str) -> int | None:
        value = self.text(column)
        if not value:
            return None
        number = parse_whole_number(value)
        if number is None:
            self.error(
                column,
                _("“%(value)s” is not a whole number of zero or more.") % {"value": value},
            )
        return number

    def boolean(self, column: str) -> bool:
        value = self.text(column).lower()
        if not value:
            return False
        if value not in _BOOLEANS:
            self.error(column, _("“%(value)s” is not yes or no.") % {"value": self.text(column)})
            return False
        return _BOOLEANS[value]

    def cost_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for n, entry in enumerate(_entries(self.text("cost_items")), start=1):
            parts = _split(entry, "=", maxsplit=2)
            name = _unescape(parts[0])
            amount_text = _unescape(parts[1]) if len(parts) > 1 else ""
            amount = parse_whole_number(amount_text) if amount_text else None
            if not name or amount is None:
                self.error(
                    "cost_items",
                    _(
                        "Cost item %(n)d (“%(entry)s”) must be written “name=amount=legal "
                        "basis”, with the amount a whole number of rupiah."
                    )
                    % {"n": n, "entry": _unescape(entry)},
                )
                continue
            basis = _unescape(parts[2]) if len(parts) > 2 else ""
            items.append({"name": name, "amount": amount, "legal_basis": basis})
        return items

    def requirements(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for n, entry in enumerate(_entries(self.text("requirements")), start=1):
            optional = entry.startswith("?")
            name = _unescape(entry[1:] if optional else entry)
            if not name:
                self.error("requirements", _("Requirement %(n)d has no name.") % {"n": n})
                continue
            items.append({"name": name, "is_mandatory": not optional})
        return items

    def pairs(self, column: str, message: str) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for n, entry in enumerate(_entries(self.text(column)), start=1):
            parts = _split(entry, ":", maxsplit=1)
            left = _unescape(parts[0])
            right = _unescape(parts[1]) if len(parts) > 1 else ""
            if not left or not right:
                self.error(column, message % {"n": n, "entry": _unescape(entry)})
                continue
            pairs.append((left, right))
        return pairs

    def steps(self) -> list[dict[str, Any]]:
        pairs = self.pairs(
            "steps", _("Step %(n)d (“%(entry)s”) must be written “who: what happens”.")
        )
        return [{"actor": actor, "description": what} for actor, what in pairs]

    def complaint_channels(self) -> list[dict[str, Any]]:
        pairs = self.pairs(
            "complaint_channels",
            _("Complaint channel %(n)d (“%(entry)s”) must be written “kind: contact”."),
        )
        allowed = _CHOICES["complaint_channels"]
        channels: list[dict[str, Any]] = []
        for kind, value in pairs:
            if kind.lower() not in allowed:
                self.error("complaint_channels", self._unknown(kind, allowed))
                continue
            channels.append({"kind": kind.lower(), "value": value})
        return channels

    def parse(self) -> RowData:
        slug = self.required("service_slug")
        if slug and (slugify(slug) != slug or len(slug) > 90):
            self.error(
                "service_slug",
                _(
                    "“%(value)s” is not a valid slug: use at most 90 lowercase letters, digits "
                    "and hyphens, e.g. ktp-el."
                )
                % {"value": slug},
            )
        name = self.required("service_name")
        unit_slug = self.required("unit_slug")
        service_fields = {
            "category": self.choice("category", ServiceCategory.OTHER),
            "channels": self.choices("channels"),
            "keywords": self.text("keywords"),
        }
        data: dict[str, Any] = {
            "processing_time_value": self.number("processing_time_value"),
            "processing_time_unit": self.choice("processing_time_unit", TimeUnit.WORKING_DAYS),
            "clock_start": self.choice("clock_start", ClockStart.ON_COMPLETE),
            "is_free": self.boolean("is_free"),
            "legal_basis": [_unescape(e) for e in _entries(self.text("legal_basis"))],
            "facilities": self.choices("facilities"),
            "staff_count": self.number("staff_count"),
        }
        for column in TEXT_FIELDS:
            data[column] = self.text(column)
        children = {
            "requirements": self.requirements(),
            "steps": self.steps(),
            "cost_items": self.cost_items(),
            "complaint_channels": self.complaint_channels(),
        }
        if data["is_free"] and any(c["amount"] > 0 for c in children["cost_items"]):
            self.error("is_free", _("A free service cannot have cost items above Rp 0."))
        row = RowData(self.line, slug, name, unit_slug, service_fields, data, children)
        self._check_models(row)
        return row

    def _model_errors(self, exc: ValidationError, columns: Mapping[str, str], prefix: str) -> None:
        for name, messages in exc.message_dict.items():
            column = columns.get(name)
            if column is None:
                continue
            for message in messages:
                self.error(column, f"{prefix}{message}")

    def _check_models(self, row: RowData) -> None:
        """The models' own limits (lengths, ranges), reported against the row's columns."""
        service = Service(name=row.service_name, slug=row.service_slug, **row.service_fields)
        # The slug has its own rule above; a missing name is already reported.
        exclude = ["agency", "unit", "slug"] + ([] if row.service_name else ["name"])
        try:
            service.clean_fields(exclude=exclude)
        except ValidationError as exc:
            self._model_errors(exc, SERVICE_COLUMNS, "")
        version = StandardVersion(number=1, **row.data)
        try:
            version.clean_fields(exclude=["service", "created_by"])
        except ValidationError as exc:
            self._model_errors(exc, {f: f for f in DATA_FIELDS}, "")
        labels = {
            "requirements": _("Requirement %(n)d: "),
            "steps": _("Step %(n)d: "),
            "cost_items": _("Cost item %(n)d: "),
            "complaint_channels": _("Complaint channel %(n)d: "),
        }
        for relation, items in row.children.items():
            model = _CHILD_MODELS[relation]
            for n, item in enumerate(items, start=1):
                try:
                    model(**item).clean_fields(exclude=["version"])
                except ValidationError as exc:
                    columns = dict.fromkeys(CHILD_COLUMNS[relation], relation)
                    self._model_errors(exc, columns, labels[relation] % {"n": n})


def table_parse(*, content: bytes, kind: FileKind) -> ParseResult:
    """Read and check the file on its own, without the database."""
    result = ParseResult()
    try:
        header, raw_rows = _read_table(content, kind)
        positions = _check_header(header)
    except _FileError as exc:
        result.issues.append(exc.issue)
        result.fatal = True
        return result
    if not raw_rows:
        result.issues.append(Issue(None, None, _("The file has no data rows below the header.")))
        result.fatal = True
        return result
    width = max(positions.values()) + 1
    first_line: dict[str, int] = {}
    for line, cells in raw_rows:
        if any(cells[width:]):
            result.issues.append(
                Issue(line, None, _("This line has more cells than the header row."))
            )
        values = {name: (cells[i] if i < len(cells) else "") for name, i in positions.items()}
        parser = _RowParser(line, values)
        row = parser.parse()
        result.issues.extend(parser.issues)
        if row.service_slug:
            if row.service_slug in first_line:
                result.issues.append(
                    Issue(
                        line,
                        "service_slug",
                        _("The service “%(slug)s” already appears on line %(line)d.")
                        % {"slug": row.service_slug, "line": first_line[row.service_slug]},
                    )
                )
            else:
                first_line[row.service_slug] = line
        result.rows.append(row)
    return result


# --- Against the database -----------------------------------------------------------------


def _restricted(
    data: Mapping[str, Any], children: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The part of a version's content that the table carries."""
    return (
        {k: data.get(k) for k in DATA_FIELDS},
        {
            relation: [{f: item.get(f) for f in fields} for item in children.get(relation, [])]
            for relation, fields in CHILD_COLUMNS.items()
        },
    )


def _field_label(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _content_changes(row: RowData, base: StandardVersion | None) -> list[str]:
    """Labels of the components the row changes, compared with `base` (or with nothing)."""
    new_data, new_children = _restricted(row.data, row.children)
    if base is None:
        old_data: dict[str, Any] = dict.fromkeys(DATA_FIELDS)
        old_children: dict[str, list[dict[str, Any]]] = {r: [] for r in CHILD_COLUMNS}
        empty: tuple[Any, ...] = (None, "", [], False)
        changed = [k for k in DATA_FIELDS if new_data[k] not in empty]
    else:
        old_data, old_children = _restricted(*writes.version_content(base))
        changed = [k for k in DATA_FIELDS if new_data[k] != old_data[k]]
    labels = [_field_label(StandardVersion, key) for key in changed]
    for relation in CHILD_COLUMNS:
        if new_children[relation] != old_children[relation]:
            labels.append(str(_CHILD_MODELS[relation]._meta.verbose_name_plural))
    return labels


def _service_changes(row: RowData, service: Service, unit: Unit) -> dict[str, Any]:
    wanted = {"name": row.service_name, "unit": unit, **row.service_fields}
    return {
        key: value
        for key, value in wanted.items()
        if (service.unit_id != unit.pk if key == "unit" else getattr(service, key) != value)
    }


def _plan_row(
    row: RowData,
    *,
    agency: Agency,
    user: Any,
    units: Mapping[str, Unit],
    services: Mapping[str, Service],
) -> tuple[PlannedRow | None, list[Issue]]:
    issues: list[Issue] = []
    unit = units.get(row.unit_slug)
    if unit is None:
        issues.append(
            Issue(
                row.line,
                "unit_slug",
                _("There is no unit “%(slug)s” in %(agency)s.")
                % {"slug": row.unit_slug, "agency": agency.name},
            )
        )
        return None, issues
    service = services.get(row.service_slug)
    if not unit.is_active and (service is None or service.unit_id != unit.pk):
        issues.append(
            Issue(
                row.line,
                "unit_slug",
                _("The unit “%(slug)s” is no longer active.") % {"slug": row.unit_slug},
            )
        )
    if not can(user, Action.EDIT_STANDARD, Service(agency=agency, unit=unit)) or (
        service is not None and not can(user, Action.EDIT_STANDARD, service)
    ):
        issues.append(
            Issue(
                row.line,
                "unit_slug",
                _("You may not edit the standards of the unit “%(slug)s”.")
                % {"slug": row.unit_slug},
            )
        )
    planned = PlannedRow(
        line=row.line,
        service_slug=row.service_slug,
        service_name=row.service_name,
        action=RowAction.CREATE_SERVICE,
        row=row,
        unit=unit,
        service=service,
    )
    if service is None:
        planned.content_changes = _content_changes(row, None)
        return planned, issues
    versions = list(service.versions.all())  # prefetched, newest first
    draft = next((v for v in versions if v.status in EDITABLE_STATUSES), None)
    published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    planned.draft = draft
    planned.base = draft or published
    if draft is not None:
        planned.action = RowAction.UPDATE_DRAFT
        planned.draft_number = draft.number
        planned.draft_status = str(draft.get_status_display())
    else:
        planned.action = RowAction.NEW_DRAFT
    planned.service_changes = [
        _field_label(Service, key) for key in _service_changes(row, service, unit)
    ]
    planned.content_changes = _content_changes(row, planned.base)
    return planned, issues


def _plan(*, agency: Agency, user: Any, parsed: ParseResult) -> ImportPlan:
    plan = ImportPlan(issues=list(parsed.issues), fatal=parsed.fatal)
    if parsed.fatal:
        return plan
    units = {u.slug: u for u in agency.units.all()}
    slugs = [r.service_slug for r in parsed.rows if r.service_slug]
    services = {
        s.slug: s
        for s in Service.objects.filter(agency=agency, slug__in=slugs).prefetch_related(
            *(f"versions__{child}" for child in VERSION_CHILDREN)
        )
    }
    for row in parsed.rows:
        if not row.service_slug or not row.unit_slug:
            continue
        planned, issues = _plan_row(row, agency=agency, user=user, units=units, services=services)
        plan.issues.extend(issues)
        if planned is not None:
            plan.rows.append(planned)
    plan.issues.sort(key=lambda i: (i.line or 0, COLUMNS.index(i.column) if i.column else -1))
    return plan


def import_plan(*, agency: Agency, user: Any, content: bytes, kind: FileKind) -> ImportPlan:
    """What importing this file would do, and every problem with it. Writes nothing."""
    return _plan(agency=agency, user=user, parsed=table_parse(content=content, kind=kind))


# --- Writing ----------------------------------------------------------------------------


def _children_with_extras(
    row: RowData, base: StandardVersion | None
) -> dict[str, list[dict[str, Any]]]:
    children = {
        relation: [dict(item) for item in items] for relation, items in row.children.items()
    }
    if base is None:
        return children
    _, old_children = writes.version_content(base)
    for relation, (keys, extras) in _CHILD_EXTRAS.items():
        unused = list(old_children[relation])
        for item in children[relation]:
            match = next((old for old in unused if all(old[k] == item[k] for k in keys)), None)
            if match is None:
                continue
            unused.remove(match)
            item.update({k: match[k] for k in extras})
    return children


@dataclass
class ImportResult:
    services_created: int = 0
    drafts_created: int = 0
    drafts_updated: int = 0
    versions: list[StandardVersion] = field(default_factory=list)


def _apply_row(planned: PlannedRow, *, agency: Agency, acting_user: Any) -> StandardVersion:
    row, unit = planned.row, planned.unit
    assert row is not None and unit is not None
    service = planned.service
    if service is None:
        service = writes.service_create(
            agency=agency,
            unit=unit,
            name=row.service_name,
            slug=row.service_slug,
            acting_user=acting_user,
            **row.service_fields,
        )
        if service.slug != row.service_slug:  # created by someone else meanwhile
            raise ApplicationError(
                _("The service “%(slug)s” was created by someone else meanwhile; upload again.")
                % {"slug": row.service_slug},
                field="service_slug",
            )
    else:
        changes = _service_changes(row, service, unit)
        if changes:
            service = writes.service_update(service=service, acting_user=acting_user, **changes)
    children = _children_with_extras(row, planned.base)
    if planned.draft is not None:
        return writes.standard_draft_update(
            version=planned.draft, acting_user=acting_user, data=row.data, children=children
        )
    return writes.standard_draft_create(
        service=service, acting_user=acting_user, data=row.data, children=children
    )


def import_apply(
    *, agency: Agency, acting_user: Any, content: bytes, kind: FileKind
) -> ImportResult:
    """Check the file again and write every row, in one transaction: all or nothing.

    Raises ImportRefusedError (and writes nothing) when any row has an error.
    """
    result = ImportResult()
    with transaction.atomic():
        # Serialise imports into one agency, so that two confirmations cannot both
        # create the same new service.
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
        plan = import_plan(agency=agency, user=acting_user, content=content, kind=kind)
        if not plan.ok:
            raise ImportRefusedError(
                plan.issues or [Issue(None, None, _("The file has no data rows below the header."))]
            )
        for planned in plan.rows:
            try:
                version = _apply_row(planned, agency=agency, acting_user=acting_user)
            except ApplicationError as exc:
                raise ImportRefusedError(
                    [Issue(planned.line, exc.field if exc.field in COLUMNS else None, exc.message)]
                ) from exc
            except ValidationError as exc:
                raise ImportRefusedError(
                    [Issue(planned.line, None, " ".join(exc.messages))]
                ) from exc
            except IntegrityError as exc:  # a concurrent change the row lock did not cover
                raise ImportRefusedError(
                    [
                        Issue(
                            planned.line,
                            None,
                            _("Someone changed this service at the same moment; try again."),
                        )
                    ]
                ) from exc
            result.versions.append(version)
            if planned.action == RowAction.CREATE_SERVICE:
                result.services_created += 1
                result.drafts_created += 1
            elif planned.action == RowAction.NEW_DRAFT:
                result.drafts_created += 1
            else:
                result.drafts_updated += 1
    return result


# --- Keeping the upload between preview and confirmation ------------------------------------

# Waiting uploads kept per user; older ones are dropped.
MAX_STAGED = 5


def import_stage(
    *, agency: Agency, user: Any, content: bytes, kind: FileKind, filename: str
) -> ImportJob:
    """Keep the uploaded bytes on the server as a waiting job of its uploader: the preview
    and the confirmation read them back."""
    stored = upload_store(chunks=[content], file_format=kind, max_bytes=MAX_BYTES)
    job = import_job_create(
        kind=ImportKind.STANDARDS,
        agency=agency,
        owner=user,
        upload=stored,
        filename=filename,
        file_format=kind,
    )
    import_jobs_trim(owner=user, kind=ImportKind.STANDARDS, keep=MAX_STAGED)
    return job


def staged_content(*, job: ImportJob) -> bytes | None:
    path = job_file(job.upload_file)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def import_confirm(*, job: ImportJob, acting_user: Any, content: bytes) -> ImportResult | None:
    """Apply a waiting upload, all or nothing (import_apply). None when the job is not
    waiting any more (confirmed already, or being confirmed in another request).

    Raises ImportRefusedError, and leaves the job waiting, when the file has errors.
    """
    claimed = import_job_claim(job_id=job.pk, kind=ImportKind.STANDARDS)
    if claimed is None:
        return None
    try:
        result = import_apply(
            agency=claimed.agency,
            acting_user=acting_user,
            content=content,
            kind=FileKind(claimed.file_format),
        )
    except ImportRefusedError as refused:
        import_job_release(job=claimed, message=refused.message)
        raise
    except BaseException:
        import_job_release(job=claimed)
        raise
    claimed.rows_read = len(result.versions)
    claimed.created = result.drafts_created
    claimed.updated = result.drafts_updated
    import_job_finish(job=claimed, state=ImportState.DONE)
    import_job_discard_upload(job=claimed)
    return result


def import_cancel(*, job: ImportJob) -> None:
    import_job_fail(job=job, message=_("The import was cancelled; nothing was written."))
    import_job_discard_upload(job=job)
