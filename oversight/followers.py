"""The citizen concerned: following a request by email, and hearing the unit's answers.

When the unit explains, remedies, disputes or records the compensation paid for a breach
about a request, each citizen following that request (`CitizenFollower`, from the public
tracking page) who confirmed their address gets one email: the outbox rows are written in
the same transaction as the answer (`followers_notify`, called by oversight/answers.py).

Double opt-in (UU 27/2022 expects verified consent): following writes an unconfirmed
follower and, in the same transaction, one "follow_confirm" outbox row (at most one an
hour per follower); the signed link in that email confirms. Unconfirmed followers are
deleted after seven days (`citizen_followers_purge_unconfirmed`, daily on beat).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from delivery.models import ServiceDelivery
from notifications.keys import idempotency_key
from notifications.models import Notification, NotificationStatus
from notifications.outbox.insert import insert_notifications
from notifications.tasks import kick_drain
from oversight.models import FOLLOWER_CONFIRM_MAX_AGE, Breach, BreachEvent, CitizenFollower

PURGE_BATCH = 500
CITIZEN_EVENT = "breach_answered"
FOLLOW_CONFIRM_EVENT = "follow_confirm"
# Following again while unconfirmed re-sends the confirmation, at most this often.
FOLLOW_CONFIRM_RESEND_AFTER = dt.timedelta(hours=1)


def followers_notify(breach: Breach, event: BreachEvent) -> int:
    """One outbox row per citizen following the breach's request (call inside the
    answer's transaction). Returns the number of rows written."""
    if breach.subject_type != "delivery" or breach.delivery_id is None:
        return 0
    emails = CitizenFollower.objects.filter(
        delivery_id=breach.delivery_id, confirmed_at__isnull=False
    ).values_list("email", flat=True)
    subject = f"breach:{breach.pk}:event:{event.pk}"
    rows = [
        Notification(
            event=CITIZEN_EVENT,
            subject=breach,
            subject_event_id=event.pk,
            unit_id=breach.unit_id,
            channel="email",
            recipient=email,
            level=0,
            status=NotificationStatus.PENDING,
            idempotency_key=idempotency_key(
                event=CITIZEN_EVENT, subject=subject, recipient=email, channel="email", level=0
            ),
        )
        for email in emails
    ]
    insert_notifications(rows)
    return len(rows)


def _queue_confirmation(follower: CitizenFollower, *, now: dt.datetime) -> Notification:
    """One "follow_confirm" outbox row (call inside the follow's transaction), keyed on the
    follower and the moment it was asked for."""
    moment = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    notification = Notification.objects.create(
        event=FOLLOW_CONFIRM_EVENT,
        subject=follower,
        unit_id=follower.delivery.unit_id,
        channel="email",
        recipient=follower.email,
        level=0,
        status=NotificationStatus.PENDING,
        idempotency_key=idempotency_key(
            event=FOLLOW_CONFIRM_EVENT,
            subject=f"follower:{follower.pk}:{moment}",
            recipient=follower.email,
            channel="email",
            level=0,
        ),
    )
    transaction.on_commit(kick_drain)
    return notification


def citizen_follow(
    *, delivery: ServiceDelivery, email: str, now: dt.datetime | None = None
) -> CitizenFollower:
    """Ask to follow a request by email (idempotent: following twice keeps one row).

    A new address is written unconfirmed with one confirmation email; the same address
    again, still unconfirmed, gets another one only if the last was asked for at least
    `FOLLOW_CONFIRM_RESEND_AFTER` ago; a confirmed address gets nothing. The caller is
    the public tracking page (whoever has the tracking code may ask), which must say the
    same thing in every case.
    """
    now = now or timezone.now()
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError(
            _("Enter a valid email address."), code="invalid", field="email"
        ) from exc
    with transaction.atomic():
        follower = (
            CitizenFollower.objects.select_for_update(of=("self",))
            .select_related("delivery")
            .filter(delivery=delivery, email__iexact=email)
            .first()
        )
        if follower is None:
            try:
                with transaction.atomic():
                    follower = CitizenFollower.objects.create(
                        delivery=delivery, email=email, confirmation_sent_at=now
                    )
            except IntegrityError:  # the same address, a moment earlier: its email is queued
                return CitizenFollower.objects.get(delivery=delivery, email__iexact=email)
            _queue_confirmation(follower, now=now)
            return follower
        last = follower.confirmation_sent_at
        if follower.confirmed_at is None and (
            last is None or now - last >= FOLLOW_CONFIRM_RESEND_AFTER
        ):
            follower.confirmation_sent_at = now
            follower.save(update_fields=["confirmation_sent_at"])
            _queue_confirmation(follower, now=now)
    return follower


def citizen_follow_confirm(
    *, follower: CitizenFollower, now: dt.datetime | None = None
) -> CitizenFollower | None:
    """Confirm the address (idempotent: the first confirmation's time is kept). Returns
    the follower, or None if it was deleted meanwhile (nothing left to confirm).

    The caller has verified the signed confirmation link (the credential).
    """
    now = now or timezone.now()
    CitizenFollower.objects.filter(pk=follower.pk, confirmed_at__isnull=True).update(
        confirmed_at=now
    )
    confirmed_at = (
        CitizenFollower.objects.filter(pk=follower.pk)
        .values_list("confirmed_at", flat=True)
        .first()
    )
    if confirmed_at is None:
        return None
    follower.confirmed_at = confirmed_at
    return follower


def _confirmations_of(followers: list[CitizenFollower]) -> QuerySet[Notification]:
    """The confirmation emails written for these followers (not the one being sent)."""
    return Notification.objects.filter(
        event=FOLLOW_CONFIRM_EVENT,
        subject_type=ContentType.objects.get_for_model(CitizenFollower),
        subject_id__in=[f.pk for f in followers],
    ).exclude(status=NotificationStatus.SENDING)


def citizen_followers_purge_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """Delete the followers who did not confirm within `FOLLOWER_CONFIRM_MAX_AGE` (of
    following, and of their last confirmation email), with their confirmation emails:
    the address is forgotten. Idempotent; returns the number of followers deleted."""
    now = now or timezone.now()
    cutoff = now - FOLLOWER_CONFIRM_MAX_AGE
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                CitizenFollower.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("delivery")
                .filter(confirmed_at__isnull=True, created_at__lt=cutoff)
                .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lt=cutoff))
                .order_by("pk")[:PURGE_BATCH]
            )
            if not batch:
                return deleted
            _confirmations_of(batch).delete()
            CitizenFollower.objects.filter(pk__in=[f.pk for f in batch]).delete()
            deleted += len(batch)


def citizen_unfollow(*, follower: CitizenFollower) -> None:
    """Stop following: forget the address, and the messages to it not sent yet.

    The caller has verified the signed unsubscribe link (the credential).
    """
    with transaction.atomic():
        Notification.objects.filter(
            event=CITIZEN_EVENT,
            status=NotificationStatus.PENDING,
            recipient__iexact=follower.email,
            breach__delivery_id=follower.delivery_id,
        ).delete()
        _confirmations_of([follower]).delete()
        follower.delete()
