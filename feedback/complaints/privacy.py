"""What of a complaint each viewer may see: the one place that decides.

- Complaint handlers: the agency's staff who may answer breaches agency-wide
  (`Action.ANSWER_BREACH` without a unit limit). They verify, route, ask for more, forward,
  moderate and close.
- Unit staff: a membership limited to the complaint's unit with `ANSWER_BREACH`. They see
  a complaint once it is forwarded to their unit, and answer it.
- The ombudsman (`Action.DECIDE_BREACH` everywhere): reads every complaint, the original
  text and the identity; writes nothing here.

The identity (name, email, phone) reaches agency staff only when the citizen made neither
privacy choice. The original description is shown to handlers until they moderate it;
afterwards only the ombudsman reads it and everyone else the moderated text. The same holds
for what the citizen writes later (the information they add, the reason they reopen it):
the unit reads only what a handler moderated. Evidence is served to handlers and the
ombudsman only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agencies.policy import Action, grant_for
from feedback.complaints.models import Complaint, ComplaintEvent
from feedback.complaints.states import ComplaintAction

# Steps whose note the citizen wrote: moderated before anyone beyond the handlers reads it.
CITIZEN_NOTES = frozenset({ComplaintAction.ADD_INFO, ComplaintAction.REOPEN})


def is_ombudsman(user: Any) -> bool:
    return grant_for(user, Action.DECIDE_BREACH).everywhere


def is_handler(user: Any, complaint: Complaint) -> bool:
    grant = grant_for(user, Action.ANSWER_BREACH)
    return grant.everywhere or complaint.agency_id in grant.agency_ids


def is_unit_staff(user: Any, complaint: Complaint) -> bool:
    grant = grant_for(user, Action.ANSWER_BREACH)
    return complaint.forwarded_at is not None and complaint.unit_id in grant.unit_ids


def may_view(user: Any, complaint: Complaint) -> bool:
    return is_handler(user, complaint) or is_unit_staff(user, complaint) or is_ombudsman(user)


def may_answer(user: Any, complaint: Complaint) -> bool:
    return is_handler(user, complaint) or is_unit_staff(user, complaint)


def shows_identity(user: Any, complaint: Complaint) -> bool:
    if is_ombudsman(user):
        return True
    return not complaint.is_private and may_view(user, complaint)


def text_for(user: Any, complaint: Complaint) -> str:
    """The description this viewer reads."""
    if complaint.moderated_at is not None:
        return complaint.public_text  # the ombudsman reads the original beside it
    if is_ombudsman(user) or is_handler(user, complaint):
        return complaint.description
    return ""


def shows_original(user: Any, complaint: Complaint) -> bool:
    """Does the viewer read the original alongside the moderated text (the ombudsman)?"""
    return complaint.moderated_at is not None and is_ombudsman(user)


def reopen_text_for(user: Any, complaint: Complaint) -> str:
    """The reason for reopening this viewer reads: the moderated one once there is one;
    before that the original, to the handlers (who moderate it) and the ombudsman only."""
    if complaint.reopen_moderated_at is not None:
        return complaint.reopen_public_text
    if is_ombudsman(user) or is_handler(user, complaint):
        return complaint.reopen_reason
    return ""


def shows_reopen_original(user: Any, complaint: Complaint) -> bool:
    return complaint.reopen_moderated_at is not None and is_ombudsman(user)


def note_for(user: Any, complaint: Complaint, event: ComplaintEvent) -> str:
    """An event's note in the staff history. What the citizen wrote is the original: the
    ombudsman reads it; the handlers until they have moderated it; nobody else."""
    if event.action not in CITIZEN_NOTES or is_ombudsman(user):
        return event.note
    if not is_handler(user, complaint):
        return ""
    if event.action == ComplaintAction.ADD_INFO and complaint.moderated_at is not None:
        return ""
    if event.action == ComplaintAction.REOPEN and complaint.reopen_moderated_at is not None:
        return ""
    return event.note


def may_see_evidence(user: Any, complaint: Complaint) -> bool:
    return is_handler(user, complaint) or is_ombudsman(user)


def staff_scope(user: Any, queryset: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """The complaints a staff member may see: their agencies' (handlers), those forwarded to
    their unit (unit staff), every one (the ombudsman)."""
    if grant_for(user, Action.DECIDE_BREACH).everywhere:
        return queryset
    grant = grant_for(user, Action.ANSWER_BREACH)
    if grant.everywhere:
        return queryset
    if grant.nothing:
        return queryset.none()
    condition = Q(agency_id__in=grant.agency_ids)
    if grant.unit_ids:
        condition |= Q(unit_id__in=grant.unit_ids, forwarded_at__isnull=False)
    return queryset.filter(condition)
