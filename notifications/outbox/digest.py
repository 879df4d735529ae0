"""The daily digest: held recipient rows gathered into one email per unit, recipient and day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from notifications.keys import digest_key
from notifications.models import Notification, NotificationStatus
from notifications.outbox.conf import DIGEST
from notifications.partitions import by_id_and_month


def digest_collect(*, now: dt.datetime | None = None) -> int:
    """Gather held digest items into one email row per (unit, recipient, day).

    Idempotent per recipient per day (key digest:<unit>:<recipient>:<date>): items that
    arrive after the day's digest left wait for the next day's. The digest rows are then
    sent by the drainer like any email. Returns the number of digest rows written.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    written = 0
    with transaction.atomic():
        items = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                channel=DIGEST,
                status=NotificationStatus.PENDING,
                digest__isnull=True,
                created_at__lte=now,
            )
            .order_by("created_at", "pk")
        )
        groups: dict[tuple[int, str], list[Notification]] = defaultdict(list)
        for item in items:
            groups[(item.unit_id or 0, item.recipient.lower())].append(item)
        for (unit_id, _recipient), group in groups.items():
            first = group[0]
            digest, created = Notification.objects.get_or_create(
                idempotency_key=digest_key(unit_id=unit_id, recipient=first.recipient, date=today),
                defaults={
                    "event": "digest",
                    "channel": "email",
                    "unit_id": unit_id or None,
                    "recipient": first.recipient,
                    "user": first.user,
                },
            )
            if not created:  # lock it: a drainer must not claim it while items join
                digest = Notification.objects.select_for_update().get(
                    by_id_and_month([(digest.pk, digest.created_at)])
                )
            if not created and digest.status != NotificationStatus.PENDING:
                continue  # today's digest already went out: these wait for tomorrow
            written += int(created)
            # By id and month (each item's created_at, the partition key): one month read.
            Notification.objects.filter(
                by_id_and_month((i.pk, i.created_at) for i in group)
            ).update(digest=digest, status=NotificationStatus.EXPANDED, sent_at=now)
    return written
