"""Parsing the rows: the values inside each cell, checked against the models' own limits,
without the database (`table_parse`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.tabular import FileKind
from services.importing.layout import (
    CHILD_COLUMNS,
    CHILD_MODELS,
    CHOICES,
    DATA_FIELDS,
    ESCAPABLE,
    ESCAPE,
    LIST_SEPARATOR,
    SERVICE_COLUMNS,
    TEXT_FIELDS,
    Issue,
)
from services.importing.read import FileError, check_header, read_table
from services.models import ClockStart, Service, ServiceCategory, StandardVersion, TimeUnit


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
        if value not in CHOICES[column]:
            self.error(column, self._unknown(value, CHOICES[column]))
            return default
        return value

    def choices(self, column: str) -> list[str]:
        result: list[str] = []
        for entry in _entries(self.text(column)):
            value = _unescape(entry).lower()
            if value not in CHOICES[column]:
                self.error(column, self._unknown(value, CHOICES[column]))
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
        allowed = CHOICES["complaint_channels"]
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
            model = CHILD_MODELS[relation]
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
        header, raw_rows = read_table(content, kind)
        positions = check_header(header)
    except FileError as exc:
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
