"""Reads for the staff in-app inbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from notifications import registry
from notifications.models import Notification
from notifications.outbox.conf import INAPP
from notifications.registry import InboxEntry


def inbox_for_user(*, user: Any) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first (never anyone else's)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        Notification.objects.filter(user_id=user.pk, channel=INAPP)
        .select_related("unit")
        .prefetch_related(registry.subject_prefetch())
        .order_by("-created_at", "-pk")
    )


def unread_count_for_user(*, user: Any) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user_id=user.pk, channel=INAPP, read_at__isnull=True).count()


def inbox_entry(notification: Notification) -> InboxEntry:
    """How one in-app row shows in the inbox: as its event's registered type says, else
    by its event's name."""
    found = registry.message_type(notification.event)
    if found is None or found.inbox_entry is None or notification.subject is None:
        return InboxEntry(title=notification.event)
    return found.inbox_entry(notification)


@dataclass(frozen=True)
class InboxGroup:
    """The user's in-app notifications of one event about one unit."""

    event: str
    label: str
    unit_id: int | None
    unit_name: str
    total: int
    unread: int
    latest: Any

    @property
    def unit_param(self) -> str:
        return "" if self.unit_id is None else str(self.unit_id)


def inbox_groups(*, user: Any) -> list[InboxGroup]:
    """The user's in-app notifications grouped by event and unit, groups with unread rows
    first, then the most recent: one GROUP BY query (the inbox index serves it)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    rows = (
        Notification.objects.filter(user_id=user.pk, channel=INAPP)
        .values("event", "unit_id", "unit__name")
        .annotate(
            total=Count("pk"),
            unread=Count("pk", filter=Q(read_at__isnull=True)),
            latest=Max("created_at"),
        )
        .order_by()
    )
    groups = [
        InboxGroup(
            event=row["event"],
            label=registry.event_label(row["event"]),
            unit_id=row["unit_id"],
            unit_name=row["unit__name"] or "",
            total=row["total"],
            unread=row["unread"],
            latest=row["latest"],
        )
        for row in rows
    ]
    groups.sort(key=lambda g: (g.unread == 0, -g.latest.timestamp(), g.label, g.unit_name))
    return groups
