"""Reads for the staff in-app inbox."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications.models import Notification

INAPP = "inapp"


def inbox_for_user(*, user: Any) -> QuerySet[Notification]:
    """The user's own in-app notifications, newest first (never anyone else's)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        Notification.objects.filter(user_id=user.pk, channel=INAPP)
        .select_related("breach__service", "breach__delivery", "unit")
        .order_by("-created_at", "-pk")
    )


def unread_count_for_user(*, user: Any) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user_id=user.pk, channel=INAPP, read_at__isnull=True).count()
