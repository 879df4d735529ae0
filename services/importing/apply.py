"""Applying: every row of a clean plan written through services.services, in one
transaction, or nothing (`import_apply`). Import never publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from agencies.models import Agency
from core.errors import ApplicationError
from core.tabular import FileKind
from services import services as writes
from services.importing.layout import CHILD_EXTRAS, COLUMNS, ImportRefusedError, Issue
from services.importing.parse import RowData
from services.importing.plan import PlannedRow, RowAction, import_plan, service_changes
from services.models import StandardVersion


def _children_with_extras(
    row: RowData, base: StandardVersion | None
) -> dict[str, list[dict[str, Any]]]:
    children = {
        relation: [dict(item) for item in items] for relation, items in row.children.items()
    }
    if base is None:
        return children
    _, old_children = writes.version_content(base)
    for relation, (keys, extras) in CHILD_EXTRAS.items():
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
        changes = service_changes(row, service, unit)
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
