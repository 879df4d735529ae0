"""The in-app inbox: a staff user marks their own rows read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from core.errors import PermissionDeniedError
from notifications.models import Notification
from notifications.outbox.conf import INAPP
from notifications.partitions import by_id_and_month


def notification_mark_read(
    *, notification: Notification, acting_user: Any, now: dt.datetime | None = None
) -> Notification:
    """Mark one of the user's own in-app notifications read (idempotent)."""
    if notification.channel != INAPP or notification.user_id != getattr(acting_user, "pk", None):
        raise PermissionDeniedError()
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        # By id and month (created_at, the partition key): one month probed, not each.
        Notification.objects.filter(
            by_id_and_month([(notification.pk, notification.created_at)]), read_at__isnull=True
        ).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, acting_user: Any, now: dt.datetime | None = None) -> int:
    """Mark every unread in-app notification of the user read; returns how many."""
    return Notification.objects.filter(
        user_id=acting_user.pk, channel=INAPP, read_at__isnull=True
    ).update(read_at=now or timezone.now())


def notifications_mark_group_read(
    *, acting_user: Any, event: str, unit_id: int | None, now: dt.datetime | None = None
) -> int:
    """Mark the user's unread in-app notifications of one group (event, unit) read; returns
    how many. Only the user's own rows: another person's group is never touched."""
    rows = Notification.objects.filter(
        user_id=acting_user.pk, channel=INAPP, read_at__isnull=True, event=event
    )
    rows = rows.filter(unit__isnull=True) if unit_id is None else rows.filter(unit_id=unit_id)
    return rows.update(read_at=now or timezone.now())
