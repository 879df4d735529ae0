"""Complaints before the ombudsman as cases (cases app): a reviewer opens a case from a
complaint that reached the desk (escalated by the agency, or asked for by the citizen), and
the complainant may respond to the draft findings from the complaint's tracking page.

The case holds only the complaint's number, never the identity: the complainant's name and
contact stay on the complaint, behind feedback.complaints.privacy (`shows_identity`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, CaseBreach, CaseState, Finding
from cases.services import ComplaintRef, case_open, case_transition
from core.errors import ApplicationError, PermissionDeniedError
from feedback.complaints.models import Complaint
from feedback.complaints.privacy import is_ombudsman


def on_desk(complaint: Complaint) -> bool:
    return complaint.escalated_at is not None or complaint.ombudsman_requested_at is not None


def case_of_complaint(complaint: Complaint) -> Case | None:
    if not on_desk(complaint):
        return None
    return Case.objects.filter(complaint_id=complaint.pk).first()


def may_open_case(user: Any, complaint: Complaint, case: Case | None) -> bool:
    return case is None and on_desk(complaint) and is_ombudsman(user)


def complaint_open_case(
    *, complaint: Complaint, acting_user: Any, now: dt.datetime | None = None
) -> Case:
    """Open the ombudsman's case of a complaint on the desk, with its linked breach (unless
    that breach is already judged in another case). The case's title names what went wrong
    and the unit, never the complainant."""
    if not is_ombudsman(acting_user):
        raise PermissionDeniedError()
    if not on_desk(complaint):
        raise ApplicationError(
            _("Only a complaint on the ombudsman's desk can become a case."), code="state"
        )
    breach_ids = []
    if (
        complaint.linked_breach_id is not None
        and not CaseBreach.objects.filter(breach_id=complaint.linked_breach_id).exists()
    ):
        breach_ids.append(complaint.linked_breach_id)
    ref = ComplaintRef(
        complaint_id=complaint.pk,
        agency_id=complaint.agency_id,
        unit_id=complaint.unit_id,
        service_id=complaint.service_id,
        occurred_on=complaint.occurred_on,
        title=f"{complaint.get_category_display()} · {complaint.unit.name}",
    )
    return case_open(breach_ids=breach_ids, acting_user=acting_user, complaint=ref, now=now)


def draft_for_complainant(complaint: Complaint) -> Finding | None:
    """The draft findings of the complaint's case while they are open to responses (or
    were answered by the complainant): what the tracking page shows. No query for a
    complaint that never reached the desk (no case can exist)."""
    if not on_desk(complaint):
        return None
    finding = (
        Finding.objects.filter(
            case__complaint_id=complaint.pk,
            case__state=CaseState.DRAFT_FINDINGS,
            draft_issued_at__isnull=False,
        )
        .select_related("case")
        .first()
    )
    return finding


def may_respond(finding: Finding | None, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        finding is not None
        and finding.reporter_responded_at is None
        and (finding.response_due_at is None or now <= finding.response_due_at)
    )


def complaint_respond_findings(
    *, complaint: Complaint, text: str, now: dt.datetime | None = None
) -> Finding:
    """The complainant's response to the draft findings (by tracking code, no account)."""
    finding = draft_for_complainant(complaint)
    if finding is None:
        raise ApplicationError(_("There is no draft to respond to."))
    case_transition(finding.case, "reporter_respond", None, reporter=True, now=now, text=text)
    finding.refresh_from_db()
    return finding
