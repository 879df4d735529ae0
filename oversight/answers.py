"""The responsible unit's answer to a breach, and the ombudsman's decision.

acknowledge -> explain (text + optional PDF/image) -> remedy, or dispute. Every step
locks the breach row, writes a `BreachEvent` (who, how, when) in the same transaction,
and stops the escalation ladder (which locks the same row, so it never escalates a
breach acknowledged a moment earlier).

The citizen concerned: when the unit explains, remedies, disputes or records the
compensation paid for a breach about a request, each citizen following that request
(`CitizenFollower`, from the public tracking page) who confirmed their address gets one
email: the outbox rows are written in the same transaction as the answer.

Double opt-in (UU 27/2022 expects verified consent): following writes an unconfirmed
follower and, in the same transaction, one "follow_confirm" outbox row (at most one an
hour per follower); the signed link in that email confirms. Unconfirmed followers are
deleted after seven days (`citizen_followers_purge_unconfirmed`, daily on beat).

Who may do what (agencies/policy.py):
- ANSWER_BREACH (the unit's editors and approvers, the agency's admins) answer.
- The one-click email link acknowledges on behalf of the address it was sent to: the
  signed token is the credential, and it can do nothing else.
- DECIDE_BREACH (ombudsman reviewers) decide (confirm or dismiss) but never answer for
  the unit: acknowledging means "the unit has heard", which only the unit can say;
  letting the reviewer say it would silently stop the unit's escalation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.policy import Action, can
from core.errors import ApplicationError, PermissionDeniedError
from delivery.models import ServiceDelivery
from notifications.models import Notification, NotificationStatus
from notifications.outbox import idempotency_key
from notifications.tasks import kick_drain
from oversight.compensation import breach_compensation
from oversight.models import (
    FOLLOWER_CONFIRM_MAX_AGE,
    Breach,
    BreachEscalation,
    BreachEvent,
    BreachEventKind,
    BreachStatus,
    CitizenFollower,
    Maladministration,
)

# Far above any real payment, well inside the column (PositiveBigIntegerField).
COMPENSATION_MAX = 10**15
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# Checked on the file's first bytes, not on its name or the browser's word.
ATTACHMENT_SIGNATURES: dict[bytes, str] = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}
CLOSED = {
    BreachStatus.DISMISSED,
    BreachStatus.CONFIRMED,
    BreachStatus.RESOLVED,
}
# A confirmed breach may still be compensated (the payment often follows the decision);
# a dismissed one, or one that disappeared when the data was corrected, owes nothing.
NOT_COMPENSABLE = {BreachStatus.DISMISSED, BreachStatus.RESOLVED}
PURGE_BATCH = 500
CITIZEN_EVENT = "breach_answered"
FOLLOW_CONFIRM_EVENT = "follow_confirm"
# Following again while unconfirmed re-sends the confirmation, at most this often.
FOLLOW_CONFIRM_RESEND_AFTER = dt.timedelta(hours=1)


def _locked(breach: Breach) -> tuple[Breach, BreachEscalation]:
    locked = Breach.objects.select_for_update().get(pk=breach.pk)
    escalation, _created = BreachEscalation.objects.get_or_create(breach=locked)
    return locked, escalation


def _check_answer(user: Any, breach: Breach) -> None:
    if not can(user, Action.ANSWER_BREACH, breach):
        raise PermissionDeniedError()


def _check_open(breach: Breach) -> None:
    if breach.status in CLOSED:
        raise ApplicationError(_("This breach is closed."), code="closed")


def _event(breach: Breach, kind: str, *, now: dt.datetime, **fields: Any) -> BreachEvent:
    return BreachEvent.objects.create(breach=breach, kind=kind, created_at=now, **fields)


def _notify_followers(breach: Breach, event: BreachEvent) -> int:
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
            breach=breach,
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
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _acknowledge(
    breach: Breach, escalation: BreachEscalation, *, now: dt.datetime, **who: Any
) -> None:
    if escalation.acknowledged_at is not None:
        return
    escalation.acknowledged_at = now
    escalation.save(update_fields=["acknowledged_at"])
    if breach.status == BreachStatus.OPEN:
        breach.status = BreachStatus.ACKNOWLEDGED
        breach.save(update_fields=["status"])
    _event(breach, BreachEventKind.ACKNOWLEDGED, now=now, **who)


def breach_acknowledge(
    *,
    breach: Breach,
    acting_user: Any = None,
    by_email: str = "",
    now: dt.datetime | None = None,
) -> Breach:
    """Acknowledge (idempotent). Without a user, the caller has verified a signed link."""
    now = now or timezone.now()
    if acting_user is not None:
        _check_answer(acting_user, breach)
    elif not by_email:
        raise PermissionDeniedError()
    with transaction.atomic():
        locked, escalation = _locked(breach)
        _check_open(locked)
        who = (
            {"actor": acting_user, "via": "staff"}
            if acting_user is not None
            else {"via": "link", "by_email": by_email}
        )
        _acknowledge(locked, escalation, now=now, **who)
    return locked


def check_attachment(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > ATTACHMENT_MAX_BYTES:
        raise ApplicationError(
            _("The attachment is larger than 5 MB."), code="too_large", field="attachment"
        )
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in ATTACHMENT_SIGNATURES):
        raise ApplicationError(
            _("The attachment must be a PDF, PNG or JPEG file."),
            code="file_type",
            field="attachment",
        )


def breach_explain(
    *,
    breach: Breach,
    acting_user: Any,
    text: str,
    attachment: UploadedFile | None = None,
    now: dt.datetime | None = None,
) -> Breach:
    """Explain the breach (acknowledging it if that was not done yet)."""
    now = now or timezone.now()
    _check_answer(acting_user, breach)
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write the explanation."), code="required", field="text")
    if attachment is not None:
        check_attachment(attachment)
    with transaction.atomic():
        locked, escalation = _locked(breach)
        _check_open(locked)
        _acknowledge(locked, escalation, now=now, actor=acting_user, via="staff")
        event = BreachEvent(
            breach=locked,
            kind=BreachEventKind.EXPLAINED,
            actor=acting_user,
            via="staff",
            text=text,
            created_at=now,
        )
        if attachment is not None:
            event.attachment.save(attachment.name or "attachment", attachment, save=False)
        event.save()
        if locked.status in {BreachStatus.OPEN, BreachStatus.ACKNOWLEDGED}:
            locked.status = BreachStatus.EXPLAINED
            locked.save(update_fields=["status"])
        _notify_followers(locked, event)
    return locked


def breach_remedy(
    *, breach: Breach, acting_user: Any, text: str, now: dt.datetime | None = None
) -> Breach:
    """Record the remedy (e.g. the overcharge refunded, the delivery completed)."""
    now = now or timezone.now()
    _check_answer(acting_user, breach)
    text = text.strip()
    if not text:
        raise ApplicationError(_("Describe the remedy."), code="required", field="text")
    with transaction.atomic():
        locked, escalation = _locked(breach)
        _check_open(locked)
        _acknowledge(locked, escalation, now=now, actor=acting_user, via="staff")
        event = _event(
            locked, BreachEventKind.REMEDIED, now=now, actor=acting_user, via="staff", text=text
        )
        locked.status = BreachStatus.REMEDIED
        locked.save(update_fields=["status"])
        _notify_followers(locked, event)
    return locked


def breach_dispute(
    *, breach: Breach, acting_user: Any, text: str, now: dt.datetime | None = None
) -> Breach:
    """The unit says the breach is wrong: it goes to the ombudsman queue for a decision."""
    now = now or timezone.now()
    _check_answer(acting_user, breach)
    text = text.strip()
    if not text:
        raise ApplicationError(_("Give the reason for the dispute."), code="required", field="text")
    with transaction.atomic():
        locked, escalation = _locked(breach)
        _check_open(locked)
        if escalation.disputed_at is not None:
            raise ApplicationError(_("This breach is already disputed."), code="state")
        _acknowledge(locked, escalation, now=now, actor=acting_user, via="staff")
        escalation.disputed_at = now
        escalation.save(update_fields=["disputed_at"])
        event = _event(
            locked, BreachEventKind.DISPUTED, now=now, actor=acting_user, via="staff", text=text
        )
        _notify_followers(locked, event)
    return locked


def breach_decide(
    *,
    breach: Breach,
    acting_user: Any,
    decision: str,
    category: str = "",
    text: str = "",
    now: dt.datetime | None = None,
) -> Breach:
    """The ombudsman confirms (with a maladministration category) or dismisses a breach."""
    now = now or timezone.now()
    if not can(acting_user, Action.DECIDE_BREACH, breach):
        raise PermissionDeniedError()
    if decision not in {BreachStatus.CONFIRMED, BreachStatus.DISMISSED}:
        raise ApplicationError(_("Choose confirm or dismiss."), code="invalid", field="decision")
    if decision == BreachStatus.CONFIRMED and category not in Maladministration.values:
        raise ApplicationError(
            _("Choose the maladministration category."), code="required", field="category"
        )
    with transaction.atomic():
        locked, _escalation = _locked(breach)
        if locked.status in CLOSED:
            raise ApplicationError(_("This breach is closed."), code="closed")
        locked.status = decision
        locked.resolved_at = now
        fields = ["status", "resolved_at"]
        if decision == BreachStatus.CONFIRMED:
            locked.decided_category = category
            fields.append("decided_category")
        locked.save(update_fields=fields)
        _event(
            locked,
            BreachEventKind.DECIDED,
            now=now,
            actor=acting_user,
            via="staff",
            text=f"{decision}: {text.strip()}".strip(": "),
        )
    return locked


def breach_record_compensation(
    *,
    breach: Breach,
    acting_user: Any,
    amount: int | None,
    paid_on: dt.date | None,
    now: dt.datetime | None = None,
) -> Breach:
    """Record that the unit paid the charter's compensation (a correction records again)."""
    now = now or timezone.now()
    _check_answer(acting_user, breach)
    if amount is None or amount <= 0 or amount > COMPENSATION_MAX:
        raise ApplicationError(
            _("Enter the amount paid, in rupiah, more than zero."), code="invalid", field="amount"
        )
    if paid_on is None:
        raise ApplicationError(_("Enter the date of payment."), code="required", field="paid_on")
    if paid_on > timezone.localdate(now):
        raise ApplicationError(
            _("The date of payment cannot be in the future."), code="future", field="paid_on"
        )
    with transaction.atomic():
        locked, escalation = _locked(breach)
        if locked.status in NOT_COMPENSABLE:
            raise ApplicationError(_("This breach is closed."), code="closed")
        compensation = breach_compensation(locked, today=timezone.localdate(now))
        if compensation is None or compensation.owed <= 0:
            raise ApplicationError(
                _("The charter promises no compensation for this breach."),
                code="no_compensation",
            )
        if locked.status not in CLOSED:
            _acknowledge(locked, escalation, now=now, actor=acting_user, via="staff")
        locked.compensation_paid_amount = amount
        locked.compensation_paid_at = paid_on
        locked.save(update_fields=["compensation_paid_amount", "compensation_paid_at"])
        event = _event(
            locked,
            BreachEventKind.COMPENSATED,
            now=now,
            actor=acting_user,
            via="staff",
            text=f"Rp {amount:,} · {paid_on.isoformat()}".replace(",", "."),
        )
        _notify_followers(locked, event)
    return locked


# --- The citizen concerned ---------------------------------------------------------------


def follow_confirm_key_prefix(follower_id: int) -> str:
    """The start of the idempotency key of every confirmation email to one follower."""
    return f"{FOLLOW_CONFIRM_EVENT}:follower:{follower_id}:"


def _queue_confirmation(follower: CitizenFollower, *, now: dt.datetime) -> Notification:
    """One "follow_confirm" outbox row (call inside the follow's transaction), keyed on the
    follower and the moment it was asked for."""
    moment = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    notification = Notification.objects.create(
        event=FOLLOW_CONFIRM_EVENT,
        breach=None,
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
    prefixes = Q()
    for follower in followers:
        prefixes |= Q(idempotency_key__startswith=follow_confirm_key_prefix(follower.pk))
    return Notification.objects.filter(
        prefixes,
        event=FOLLOW_CONFIRM_EVENT,
        unit_id__in={f.delivery.unit_id for f in followers},
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
