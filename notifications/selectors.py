"""Reads for the staff in-app inbox."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

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
