"""Fan-out: each pending fan-out row (recipient "") becomes one row per recipient.

Email recipients follow each person's preference (at once, or held for the unit's daily
digest; the kinds they chose), staff accounts get an in-app row, and the agency's
webhook endpoints a pending row each. Idempotent: every row is keyed (notifications.keys)
and written skipping taken keys (outbox/insert.py), so expanding twice writes nothing new.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from notifications import registry
from notifications.keys import idempotency_key
from notifications.models import (
    Notification,
    NotificationStatus,
    RecipientMode,
    RecipientPreference,
    UnitNotificationPreference,
)
from notifications.outbox.conf import DIGEST, EMAIL, INAPP, conf
from notifications.outbox.insert import insert_notifications
from notifications.outbox.recipients import (
    inapp_users_for,
    reachable_recipients_for,
    users_by_email,
)
from notifications.outbox.subjects import (
    agency_id_of,
    child_row,
    key_subject,
    preference_kind,
    unit_id_of,
)
from notifications.outbox.webhooks import active_endpoints, webhook_rows
from notifications.partitions import by_id_and_month


def _inapp_rows(
    row: Notification, *, subject: str, now: dt.datetime, users: list[Any]
) -> list[Notification]:
    """One in-app row per staff user: delivered the moment it is written (no external send)."""
    rows = []
    for user in users:
        recipient = f"user:{user.pk}"
        rows.append(
            child_row(
                row,
                channel=INAPP,
                recipient=recipient,
                user=user,
                status=NotificationStatus.SENT,
                sent_at=now,
                idempotency_key=idempotency_key(
                    event=row.event,
                    subject=subject,
                    recipient=recipient,
                    channel=INAPP,
                    level=row.level,
                ),
            )
        )
    return rows


def _wants_digest(row: Notification) -> bool:
    """The unit's default: are its emails that follow preferences held for its daily digest?"""
    unit_id = unit_id_of(row)
    if row.channel != EMAIL or preference_kind(row) is None or unit_id is None:
        return False
    return UnitNotificationPreference.objects.filter(unit_id=unit_id, digest=True).exists()


def in_a_burst(row: Notification) -> bool:
    """Does the row's unit receive more than DIGEST_BURST_AT notices of this event at once
    (fan-out rows written within DIGEST_BURST_WINDOW_SECONDS of this one, e.g. by one
    sweep)? One query, stopping at the threshold."""
    threshold = conf("DIGEST_BURST_AT")
    if threshold <= 0 or row.unit_id is None or row.created_at is None:
        return False
    window = dt.timedelta(seconds=conf("DIGEST_BURST_WINDOW_SECONDS"))
    siblings = Notification.objects.filter(
        event=row.event,
        unit_id=row.unit_id,
        recipient="",
        level=row.level,
        created_at__gte=row.created_at - window,
        created_at__lte=row.created_at + window,
    ).values("pk")[: threshold + 1]
    return len(siblings) > threshold


def _preferences_by_email(emails: list[str]) -> dict[str, RecipientPreference]:
    """Each address's own preference, in one query (the Lower(email) unique index serves it)."""
    if not emails:
        return {}
    found = RecipientPreference.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=[e.lower() for e in emails]
    )
    return {p.email.lower(): p for p in found}


def _recipient_channels(row: Notification, recipients: list[str]) -> dict[str, str]:
    """Each recipient's channel for this fan-out row: sent now (the row's channel) or held
    for the unit's daily digest (DIGEST). Recipients who excluded the row's kind are left
    out: they get no email for it (their in-app inbox still does).

    Only emails whose registered type gives a kind follow preferences (e.g. new breaches;
    escalations go to every recipient on their own channel: nobody may opt out of them).
    A person's RecipientPreference wins (one who chose "one email each" gets each, burst
    or not); people without one follow the unit's UnitNotificationPreference, and get the
    digest too when the unit receives many at once (`in_a_burst`).
    """
    kind = preference_kind(row)
    if row.channel != EMAIL or kind is None:
        return dict.fromkeys(recipients, row.channel)
    preferences = _preferences_by_email(recipients)
    unit_digest: bool | None = None  # asked only if someone follows the unit's default
    channels: dict[str, str] = {}
    for email in recipients:
        preference = preferences.get(email.lower())
        if preference is None:
            if unit_digest is None:
                unit_digest = _wants_digest(row) or in_a_burst(row)
            channels[email] = DIGEST if unit_digest else row.channel
        elif preference.wants_kind(kind):
            digest = preference.mode == RecipientMode.DIGEST
            channels[email] = DIGEST if digest else row.channel
    return channels


class _BatchMemo:
    """Who hears about a fan-out row depends on its event, unit, level, channel and kind,
    not on its subject: within one batch each combination is resolved once, so a burst of
    breaches in one unit costs a handful of queries, not a handful per breach."""

    def __init__(self) -> None:
        self.values: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self.values:
            self.values[key] = compute()
        return self.values[key]


def _these(created: dict[int, dt.datetime], pks: list[int]) -> Q:
    """The rows `pks` of the batch, within their months (the outbox's partition key)."""
    return by_id_and_month((pk, created[pk]) for pk in pks)


def expand_fanouts(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Resolve pending fan-out rows into one row per recipient. Idempotent; returns rows expanded."""
    now = now or timezone.now()
    limit = limit or conf("BATCH_SIZE")
    memo = _BatchMemo()
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=NotificationStatus.PENDING, recipient="")
            .select_related("unit__agency")
            # The subjects alone: who hears reads the row's unit, and the subject's own
            # fields at most (the renderers' select_related is for the drain).
            .prefetch_related("subject")
            .order_by("created_at")[:limit]
        )
        created = {row.pk: row.created_at for row in rows}
        new_rows: list[Notification] = []
        expanded: list[int] = []
        unreachable: list[int] = []
        all_disabled: list[int] = []
        for row in rows:
            subject = key_subject(row)
            unit_id = unit_id_of(row)
            kind = preference_kind(row) or ""
            message_type = registry.message_type(row.event)
            if message_type is not None and row.subject is not None and row.channel == EMAIL:
                users = memo.get(
                    ("inapp", row.event, unit_id, row.level),
                    functools.partial(inapp_users_for, row),
                )
                new_rows += _inapp_rows(row, subject=subject, now=now, users=users)
                if message_type.webhook_payload is not None:
                    agency_id = agency_id_of(row)
                    endpoints = memo.get(
                        ("webhooks", agency_id), functools.partial(active_endpoints, agency_id)
                    )
                    new_rows += webhook_rows(row, subject=subject, endpoints=endpoints)
            # Disabled addresses are left out here, resolved once per (unit, level) in the
            # batch like the recipients themselves.
            recipients, skipped = memo.get(
                ("recipients", row.event, unit_id, row.level, row.channel),
                functools.partial(reachable_recipients_for, row),
            )
            if not recipients:
                (all_disabled if skipped else unreachable).append(row.pk)
                continue
            channels = memo.get(
                ("channels", row.event, unit_id, row.level, row.channel, kind),
                functools.partial(_recipient_channels, row, recipients),
            )
            accounts = memo.get(
                ("users", tuple(channels)), functools.partial(users_by_email, list(channels))
            )
            new_rows += [
                child_row(
                    row,
                    channel=channel,
                    recipient=email,
                    user=accounts.get(email.lower()),
                    # Keyed on the row's channel, not on now-or-digest: a recipient who
                    # switches between the two before a re-expansion (a resent fan-out)
                    # still gets the message once.
                    idempotency_key=idempotency_key(
                        event=row.event,
                        subject=subject,
                        recipient=email,
                        channel=row.channel,
                        level=row.level,
                    ),
                )
                for email, channel in channels.items()
            ]
            expanded.append(row.pk)
        insert_notifications(new_rows, batch_size=1000)
        Notification.objects.filter(_these(created, expanded)).update(
            status=NotificationStatus.EXPANDED, sent_at=now
        )
        Notification.objects.filter(_these(created, unreachable)).update(
            status=NotificationStatus.FAILED,
            last_error="No recipient: the unit (or agency) has no contact address.",
        )
        Notification.objects.filter(_these(created, all_disabled)).update(
            status=NotificationStatus.FAILED,
            last_error="No recipient: every address of the unit (or agency) is disabled "
            "after repeated refusals.",
        )
    return len(rows)
