"""Demo: one complaint on the ombudsman's desk opened as a case, its draft findings issued
and answered by the complainant (from the tracking page, as a citizen would), so the case
file shows the complainant's response. Built through the apps' own functions; idempotent
(a complaint already in a case is not opened again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from agencies.models import Role
from cases import services
from cases.models import Case
from demo.cases import FINDING, TAG
from feedback.complaints.cases import complaint_open_case, complaint_respond_findings
from feedback.complaints.models import Complaint

RESPONSE = (
    "Terima kasih. Sampai minggu lalu antrean berkas masih lebih dari tiga jam; mohon "
    "tindakan korektifnya juga mencakup loket pengambilan."
)


def seed_complaint_cases() -> int:
    """Returns how many cases were opened from complaints (0 or 1)."""
    if Case.objects.filter(complaint_id__isnull=False).exists():
        return 0
    reviewer = get_user_model().objects.filter(memberships__role=Role.OMBUDSMAN).first()
    complaint = (
        Complaint.objects.filter(
            Q(escalated_at__isnull=False) | Q(ombudsman_requested_at__isnull=False)
        )
        .order_by("pk")
        .first()
    )
    if reviewer is None or complaint is None:
        return 0
    now = timezone.now()
    case = complaint_open_case(
        complaint=complaint, acting_user=reviewer, now=now - dt.timedelta(days=10)
    )
    Case.objects.filter(pk=case.pk).update(title=f"{TAG} {case.title}"[:200])
    steps: tuple[tuple[str, int, dict[str, Any]], ...] = (
        ("verify", 9, {}),
        ("accept", 8, {}),
        (
            "issue_draft",
            3,
            {**FINDING, "actions": [("Tambah loket pengambilan berkas", None)]},
        ),
    )
    for action, days_ago, data in steps:
        case = services.case_transition(
            case, action, reviewer, now=now - dt.timedelta(days=days_ago), **data
        )
    complaint_respond_findings(complaint=complaint, text=RESPONSE, now=now - dt.timedelta(days=1))
    return 1
