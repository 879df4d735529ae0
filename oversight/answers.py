"""The responsible unit's answer to a breach, and the ombudsman's decision.

acknowledge -> explain (text + optional PDF/image) -> remedy, or dispute. Every step
locks the breach row, writes a `BreachEvent` (who, how, when) in the same transaction,
and stops the escalation ladder (which locks the same row, so it never escalates a
breach acknowledged a moment earlier).

The citizen concerned: each answer about a request tells the citizens who follow it, in
the same transaction (oversight/followers.py).

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

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.policy import Action, can
from core.errors import ApplicationError, PermissionDeniedError
from oversight.compensation import breach_compensation
from oversight.followers import followers_notify
from oversight.models import (
    Breach,
    BreachEscalation,
    BreachEvent,
    BreachEventKind,
    BreachStatus,
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
    BreachStatus.OUT_OF_AUTHORITY,
}
# A confirmed breach may still be compensated (the payment often follows the decision);
# a dismissed one, or one that disappeared when the data was corrected, owes nothing.
NOT_COMPENSABLE = {
    BreachStatus.DISMISSED,
    BreachStatus.RESOLVED,
    BreachStatus.OUT_OF_AUTHORITY,
}


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
        followers_notify(locked, event)
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
        followers_notify(locked, event)
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
        locked.enter_desk(now)  # a disputed breach is the ombudsman's to decide
        event = _event(
            locked, BreachEventKind.DISPUTED, now=now, actor=acting_user, via="staff", text=text
        )
        followers_notify(locked, event)
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
    """The ombudsman confirms (with a maladministration category) or dismisses a breach
    (which puts it on the review desk, if it was not there: the desk lists what was decided)."""
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
        locked.enter_desk(now)
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
        followers_notify(locked, event)
    return locked
