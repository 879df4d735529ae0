"""Writes of complaints: every step goes through the transitions table (states.py), locks
the complaint row, records one ComplaintEvent and hands the outbox its messages in the
same transaction.

`complaint_submit` is the one entry point for a new complaint, whatever the channel (the
public form here; the API and Open311 may call it too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.calendars import WORKING_DAYS, CalendarDays, calendar_for_unit, clock_due
from agencies.models import Agency, Unit
from core.errors import ApplicationError, PermissionDeniedError
from delivery.models import DeliveryStatus, ServiceDelivery
from feedback.complaints import notices
from feedback.complaints.breaches import (
    limits_for,
    request_breach_for,
    unanswered_breaches_now,
)
from feedback.complaints.evidence import MAX_FILES, CleanFile, read_upload
from feedback.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintEvidence,
)
from feedback.complaints.privacy import is_handler, may_answer
from feedback.complaints.states import (
    ESCALATE_FROM,
    MODERATE_FROM,
    ComplaintAction,
    ComplaintStatus,
    next_state,
)
from services.models import Service

# UU 25/2009 Pasal 40: a complaint is filed within 30 days of receiving the service.
COMPLAINT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Contact:
    """The complainant's optional contact details ("" where not given)."""

    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its stream and the size the client declared (None: unknown)."""

    stream: IO[bytes]
    size: int | None = None


def too_late_message() -> str:
    return _(
        "More than 30 days have passed since the service, so the agency no longer has to "
        "take this complaint (UU 25/2009 Pasal 40). You can still report it to the "
        "Ombudsman of the Republic of Indonesia within two years: at ombudsman.go.id, by "
        "calling 137, or at its office in your province."
    )


def service_date(*, occurred_on: dt.date, delivery: ServiceDelivery | None) -> dt.date:
    """The date the 30 days count from: a completed request's completion, else the date
    the citizen gives."""
    if (
        delivery is not None
        and delivery.status == DeliveryStatus.COMPLETED
        and delivery.completed_at is not None
    ):
        return timezone.localdate(delivery.completed_at)
    return occurred_on


def check_window(*, occurred_on: dt.date, today: dt.date, delivery: ServiceDelivery | None) -> None:
    if occurred_on > today:
        raise ApplicationError(
            _("The date cannot be in the future."), code="future", field="occurred_on"
        )
    start = service_date(occurred_on=occurred_on, delivery=delivery)
    if (today - start).days > COMPLAINT_WINDOW_DAYS:
        raise ApplicationError(too_late_message(), code="too_late", field="occurred_on")


def _due(unit: Unit, start: dt.datetime, working_days: int) -> dt.datetime | None:
    """`working_days` after `start` on the unit's calendar (None: the calendar does not
    reach that far yet; the rule then waits)."""
    try:
        return clock_due(
            CalendarDays(calendar_for_unit(unit)),
            started_at=start,
            promise_value=working_days,
            promise_unit=WORKING_DAYS,
        ).due_at
    except ApplicationError:
        return None


def _clean_contact(contact: Contact | None) -> Contact:
    contact = contact or Contact()
    email = contact.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ApplicationError(
                _("Enter a valid email address."), code="invalid", field="contact_email"
            ) from exc
    return Contact(name=contact.name.strip(), email=email, phone=contact.phone.strip())


def _read_files(files: Sequence[Upload]) -> list[CleanFile]:
    if len(files) > MAX_FILES:
        raise ApplicationError(
            _("Attach at most %(count)d files.") % {"count": MAX_FILES},
            code="evidence_count",
            field="evidence",
        )
    return [read_upload(f.stream, size=f.size) for f in files]


def complaint_submit(
    *,
    category: str,
    occurred_on: dt.date,
    description: str,
    unit: Unit | None = None,
    service: Service | None = None,
    delivery: ServiceDelivery | None = None,
    location: str = "",
    anonymous: bool = True,
    confidential: bool = True,
    contact: Contact | None = None,
    files: Sequence[Upload] = (),
    now: dt.datetime | None = None,
) -> Complaint:
    """Receive one complaint (no login): about a request, a service or a unit.

    Checks the 30-day window against the date of the service, the evidence by content
    (photos re-encoded without metadata), starts the verification clock on the unit's
    calendar, and queues the confirmation of the citizen's address (double opt-in) and the
    handlers' notice. Raises ApplicationError (with `field`) for anything refused.
    """
    now = now or timezone.now()
    if category not in ComplaintCategory.values:
        raise ApplicationError(_("Choose what went wrong."), code="category", field="category")
    description = description.strip()
    if not description:
        raise ApplicationError(_("Describe what happened."), code="required", field="description")
    if delivery is not None:
        unit, service = delivery.unit, delivery.service
    elif service is not None:
        unit = service.unit
    if unit is None:
        raise ApplicationError("A complaint names a request, a service or a unit.")
    check_window(occurred_on=occurred_on, today=timezone.localdate(now), delivery=delivery)
    contact = _clean_contact(contact)
    clean_files = _read_files(files)
    limits = limits_for(unit.agency_id)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            agency_id=unit.agency_id,
            unit=unit,
            service=service,
            delivery=delivery,
            category=category,
            occurred_on=occurred_on,
            location=location.strip(),
            description=description,
            is_anonymous=anonymous,
            is_confidential=confidential,
            contact_name=contact.name,
            contact_email=contact.email,
            contact_phone=contact.phone,
            received_at=now,
            verify_due_at=_due(unit, now, limits["verify_working_days"]),
            resolve_due_at=now + dt.timedelta(days=limits["resolve_days"]),
        )
        for clean in clean_files:
            ComplaintEvidence.objects.create(
                complaint=complaint,
                kind=clean.kind,
                file=clean.as_content_file(),
                size=len(clean.content),
                content_type=clean.content_type,
            )
        _event(complaint, ComplaintAction.SUBMIT, "", ComplaintStatus.RECEIVED, None, now)
        if complaint.contact_email:
            notices.queue_confirmation(complaint, now=now)
        notices.queue_staff(complaint, notices.COMPLAINT_RECEIVED, now=now)
    return complaint


def _event(
    complaint: Complaint,
    action: str,
    from_status: str,
    to_status: str,
    actor: Any,
    now: dt.datetime,
    *,
    note: str = "",
    public: bool = False,
    from_agency: Agency | None = None,
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note,
        is_public=public,
        from_agency=from_agency,
        at=now,
    )


def _locked(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("agency", "unit__agency", "unit__calendar", "unit__agency__calendar")
        .get(pk=complaint.pk)
    )


def _step(
    complaint: Complaint,
    action: str,
    *,
    actor: Any,
    now: dt.datetime,
    note: str = "",
    public: bool = False,
    from_agency: Agency | None = None,
) -> str:
    """Move the (locked) complaint along the table; returns the previous state."""
    target = next_state(complaint.status, action)
    if target is None:
        raise ApplicationError(
            _("This step is not possible while the complaint is %(status)s.")
            % {"status": complaint.get_status_display()},
            code="state",
        )
    previous = complaint.status
    complaint.status = target
    _event(
        complaint,
        action,
        previous,
        target,
        actor,
        now,
        note=note,
        public=public,
        from_agency=from_agency,
    )
    return previous


def _require_handler(user: Any, complaint: Complaint) -> None:
    if not is_handler(user, complaint):
        raise PermissionDeniedError(_("Only the agency's complaint handlers may do this."))


def _required_text(text: str, field: str) -> str:
    text = text.strip()
    if not text:
        raise ApplicationError(_("This field is required."), code="required", field=field)
    return text


def complaint_verify(
    *, complaint: Complaint, actor: Any, now: dt.datetime | None = None
) -> Complaint:
    """The handlers accept the complaint as theirs: the unit's answer clock starts, and a
    complaint about time or cost on a known request is linked to the request's breach."""
    now = now or timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        _step(complaint, ComplaintAction.VERIFY, actor=actor, now=now)
        limits = limits_for(complaint.agency_id)
        complaint.verified_at = now
        complaint.verify_done_at = complaint.verify_done_at or now
        complaint.answer_due_at = _due(complaint.unit, now, limits["answer_working_days"])
        if complaint.delivery_id is not None:
            complaint.linked_breach = request_breach_for(
                delivery_id=complaint.delivery_id, category=complaint.category
            )
        complaint.save()
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_ask_info(
    *, complaint: Complaint, actor: Any, question: str, now: dt.datetime | None = None
) -> Complaint:
    """Ask the complainant for more (shown on the status page, emailed if confirmed)."""
    now = now or timezone.now()
    question = _required_text(question, "question")
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        _step(complaint, ComplaintAction.ASK_INFO, actor=actor, now=now, note=question, public=True)
        complaint.info_request = question
        complaint.verify_done_at = complaint.verify_done_at or now
        complaint.save()
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_add_info(
    *, complaint: Complaint, text: str, now: dt.datetime | None = None
) -> Complaint:
    """The complainant answers the handlers' question (from the status page)."""
    now = now or timezone.now()
    text = _required_text(text, "text")
    with transaction.atomic():
        complaint = _locked(complaint)
        # The added text joins the original: the handlers read it and moderate it into the
        # text they forward (the unit never reads the original; see privacy.text_for).
        _step(complaint, ComplaintAction.ADD_INFO, actor=None, now=now, note=text, public=True)
        complaint.description = f"{complaint.description}\n\n{text}"
        complaint.save()
    return complaint


def complaint_route(
    *, complaint: Complaint, actor: Any, agency: Agency, now: dt.datetime | None = None
) -> Complaint:
    """Not our authority: the complaint is received anew by `agency` (its first unit), whose
    verification clock starts now. The citizen keeps the tracking code."""
    now = now or timezone.now()
    target_unit = (
        Unit.objects.select_related("agency", "calendar", "agency__calendar")
        .filter(agency=agency, is_active=True)
        .order_by("parent_id", "pk")
        .first()
    )
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        if agency.pk == complaint.agency_id or target_unit is None:
            raise ApplicationError(
                _("Choose another agency that has a unit."), code="agency", field="agency"
            )
        source = complaint.agency
        if (
            complaint.verify_done_at is None
            and complaint.verify_due_at is not None
            and complaint.verify_due_at < timezone.now()
        ):
            # The first agency let its verification limit pass: record it against that
            # agency before the complaint leaves (the sweep may not have run since).
            unanswered_breaches_now()
        _step(complaint, ComplaintAction.ROUTE, actor=actor, now=now, from_agency=source)
        limits = limits_for(agency.pk)
        complaint.agency = agency
        complaint.unit = target_unit
        complaint.service = None
        complaint.delivery = None
        complaint.verify_due_at = _due(target_unit, now, limits["verify_working_days"])
        complaint.verify_done_at = None
        complaint.resolve_due_at = now + dt.timedelta(days=limits["resolve_days"])
        complaint.save()
        notices.queue_staff(complaint, notices.COMPLAINT_RECEIVED, now=now)
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_forward(
    *,
    complaint: Complaint,
    actor: Any,
    public_text: str,
    unit: Unit | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Forward to the unit with the text the unit will read: moderated by the handler
    (personal data and abuse redacted). The original stays, for the ombudsman's eyes."""
    now = now or timezone.now()
    public_text = _required_text(public_text, "public_text")
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        if unit is not None and unit.agency_id != complaint.agency_id:
            raise ApplicationError(_("Choose one of the agency's units."), field="unit")
        _step(complaint, ComplaintAction.FORWARD, actor=actor, now=now)
        if unit is not None and unit.pk != complaint.unit_id:
            complaint.unit = unit
            limits = limits_for(complaint.agency_id)
            if complaint.verified_at is not None:
                complaint.answer_due_at = _due(
                    unit, complaint.verified_at, limits["answer_working_days"]
                )
        complaint.public_text = public_text
        complaint.moderated_at = now
        complaint.forwarded_at = now
        complaint.save()
        notices.queue_staff(complaint, notices.COMPLAINT_FORWARDED, now=now)
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_moderate(
    *, complaint: Complaint, actor: Any, public_text: str, now: dt.datetime | None = None
) -> Complaint:
    """Rewrite the text shown beyond the handlers (the original is kept)."""
    now = now or timezone.now()
    public_text = _required_text(public_text, "public_text")
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        if complaint.status not in MODERATE_FROM:
            raise ApplicationError(_("Verify the complaint first."), code="state")
        complaint.public_text = public_text
        complaint.moderated_at = now
        complaint.save()
        _event(complaint, ComplaintAction.MODERATE, complaint.status, complaint.status, actor, now)
    return complaint


def complaint_moderate_reopen(
    *, complaint: Complaint, actor: Any, public_text: str, now: dt.datetime | None = None
) -> Complaint:
    """The handlers' version of the citizen's reopen reason, personal data and abuse
    redacted: what the unit reads. The original stays for the ombudsman."""
    now = now or timezone.now()
    public_text = _required_text(public_text, "reopen_text")
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        if not complaint.reopen_reason:
            raise ApplicationError(_("The complaint has not been reopened."), code="state")
        complaint.reopen_public_text = public_text
        complaint.reopen_moderated_at = now
        complaint.save()
        _event(complaint, ComplaintAction.MODERATE, complaint.status, complaint.status, actor, now)
    return complaint


def complaint_answer(
    *, complaint: Complaint, actor: Any, answer: str, now: dt.datetime | None = None
) -> Complaint:
    """The unit's answer to the citizen (shown on the status page, emailed if confirmed)."""
    now = now or timezone.now()
    answer = _required_text(answer, "answer")
    with transaction.atomic():
        complaint = _locked(complaint)
        if not may_answer(actor, complaint):
            raise PermissionDeniedError(_("You may not answer this complaint."))
        previous = _step(
            complaint, ComplaintAction.ANSWER, actor=actor, now=now, note=answer, public=True
        )
        if previous == ComplaintStatus.REOPENED:
            complaint.reanswered_at = complaint.reanswered_at or now
        complaint.answer = answer
        complaint.answered_at = now
        complaint.first_answered_at = complaint.first_answered_at or now
        complaint.save()
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_close(
    *, complaint: Complaint, actor: Any, note: str = "", now: dt.datetime | None = None
) -> Complaint:
    now = now or timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        _require_handler(actor, complaint)
        _step(
            complaint, ComplaintAction.CLOSE, actor=actor, now=now, note=note.strip(), public=True
        )
        complaint.closed_at = now
        complaint.save()
        notices.queue_citizen(complaint, now=now)
    return complaint


def complaint_reopen(
    *, complaint: Complaint, reason: str, now: dt.datetime | None = None
) -> Complaint:
    """The citizen says the answer did not solve it: once, with a reason the unit sees once
    a handler has moderated it (`complaint_moderate_reopen`). The unit's second answer is
    due within the answer limit again, in working days of the unit's calendar from now."""
    now = now or timezone.now()
    reason = _required_text(reason, "reason")
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.reopened_at is not None:
            raise ApplicationError(
                _("A complaint can be reopened only once. You can still ask the ombudsman."),
                code="reopened",
            )
        _step(complaint, ComplaintAction.REOPEN, actor=None, now=now, note=reason, public=True)
        complaint.reopened_at = now
        complaint.reopen_reason = reason
        complaint.closed_at = None
        limits = limits_for(complaint.agency_id)
        complaint.reanswer_due_at = _due(complaint.unit, now, limits["answer_working_days"])
        complaint.save()
        notices.queue_staff(complaint, notices.COMPLAINT_REOPENED, now=now)
    return complaint


def complaint_escalate(
    *, complaint: Complaint, actor: Any = None, now: dt.datetime | None = None
) -> Complaint:
    """To the ombudsman's desk: by a handler (actor), or asked for by the citizen (None)."""
    now = now or timezone.now()
    with transaction.atomic():
        complaint = _locked(complaint)
        if actor is not None:
            _require_handler(actor, complaint)
        if complaint.status not in ESCALATE_FROM:
            raise ApplicationError(_("This complaint cannot be escalated."), code="state")
        if actor is None:
            if complaint.ombudsman_requested_at is not None:
                return complaint
            complaint.ombudsman_requested_at = now
        else:
            if complaint.escalated_at is not None:
                return complaint
            complaint.escalated_at = now
        complaint.save()
        _event(
            complaint,
            ComplaintAction.ESCALATE,
            complaint.status,
            complaint.status,
            actor,
            now,
            public=True,
        )
    return complaint


def complaint_confirm_email(
    *, complaint: Complaint, email: str, now: dt.datetime | None = None
) -> bool:
    """Confirm the address (the caller verified the signed link). Idempotent."""
    now = now or timezone.now()
    return (
        bool(
            Complaint.objects.filter(
                pk=complaint.pk, contact_email__iexact=email, email_confirmed_at__isnull=True
            ).update(email_confirmed_at=now)
        )
        or Complaint.objects.filter(
            pk=complaint.pk, contact_email__iexact=email, email_confirmed_at__isnull=False
        ).exists()
    )


def complaint_forget_email(*, complaint: Complaint, email: str) -> None:
    """Stop the emails: the address is forgotten (the caller verified the signed link)."""
    Complaint.objects.filter(pk=complaint.pk, contact_email__iexact=email).update(
        contact_email="", email_confirmed_at=None
    )
