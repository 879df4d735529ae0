"""Planning: the parsed rows against the database (units, permissions, what each row
would do), writing nothing (`import_plan`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from agencies.models import Agency, Unit
from agencies.policy import Action, can
from core.tabular import FileKind
from services import services as writes
from services.importing.layout import CHILD_COLUMNS, CHILD_MODELS, COLUMNS, DATA_FIELDS, Issue
from services.importing.parse import ParseResult, RowData, table_parse
from services.models import EDITABLE_STATUSES, Service, StandardVersion, VersionStatus
from services.selectors import VERSION_CHILDREN


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
            labels.append(str(CHILD_MODELS[relation]._meta.verbose_name_plural))
    return labels


def service_changes(row: RowData, service: Service, unit: Unit) -> dict[str, Any]:
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
        _field_label(Service, key) for key in service_changes(row, service, unit)
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
