"""What a row is about, as the outbox sees it: its subject columns (a generic relation to
any model, and the subject's event), copied to every row it fans out to."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from notifications import registry
from notifications.models import Notification


def key_subject(row: Notification) -> str:
    """The subject part of the idempotency keys of the rows a fan-out row expands to:
    the subject's model and id (e.g. "breach12"), else its unit's ("unit3")."""
    if row.subject_type_id is not None and row.subject_id is not None:
        return f"{ContentType.objects.get_for_id(row.subject_type_id).model}{row.subject_id}"
    return f"unit{row.unit_id}"


def unit_id_of(row: Notification) -> int | None:
    """The row's unit: its own column, else its subject's (if the subject has a unit)."""
    return row.unit_id or getattr(row.subject, "unit_id", None)


def agency_id_of(row: Notification) -> int | None:
    """The agency of the row's unit (else its subject's)."""
    if row.unit_id is not None and row.unit is not None:
        return row.unit.agency_id
    return getattr(row.subject, "agency_id", None)


def preference_kind(row: Notification) -> str | None:
    """The kind a person may choose to hear or not, if the row follows people's preferences."""
    found = registry.message_type(row.event)
    if found is None or found.preference_kind is None or row.subject is None:
        return None
    return found.preference_kind(row)


def child_row(row: Notification, **fields: Any) -> Notification:
    """A row for one recipient of a fan-out row: the same event, subject, unit and level."""
    return Notification(
        event=row.event,
        subject_type_id=row.subject_type_id,
        subject_id=row.subject_id,
        subject_event_id=row.subject_event_id,
        unit_id=row.unit_id,
        level=row.level,
        parent=row,
        **fields,
    )
