"""Reads of complaints: the citizen's status page, the staff list (scoped by
feedback.complaints.privacy), and the public figures per unit and service.

No complaint text is public unless the complainant agreed (not confidential) and a handler
moderated it (`public_complaints`); the figures are counts and times, never text.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from agencies.models import Unit
from feedback.complaints.models import Complaint, ComplaintCategory
from feedback.complaints.privacy import staff_scope
from feedback.complaints.states import ComplaintStatus
from services.models import Service

STAFF_PAGE_SIZE = 50


def complaint_for_citizen(code: str) -> Complaint | None:
    return (
        Complaint.objects.select_related("agency", "unit", "service")
        .prefetch_related("events")
        .filter(tracking_code=code)
        .first()
    )


def complaints_for_staff(
    user: Any, *, status: str = "", overdue: bool = False
) -> QuerySet[Complaint]:
    queryset = staff_scope(
        user,
        Complaint.objects.select_related("agency", "unit", "service").only(
            "pk",
            "tracking_code",
            "category",
            "status",
            "received_at",
            "verify_due_at",
            "verify_done_at",
            "answer_due_at",
            "first_answered_at",
            "reanswer_due_at",
            "reanswered_at",
            "resolve_due_at",
            "closed_at",
            "forwarded_at",
            "reopened_at",
            "escalated_at",
            "ombudsman_requested_at",
            "agency_id",
            "unit_id",
            "service_id",
            "agency__name",
            "agency__slug",
            "unit__name",
            "service__name",
        ),
    )
    if status:
        queryset = queryset.filter(status=status)
    if overdue:
        now = timezone.now()
        queryset = queryset.filter(
            Q(verify_done_at__isnull=True, verify_due_at__lt=now)
            | Q(first_answered_at__isnull=True, answer_due_at__lt=now)
            | Q(reanswered_at__isnull=True, reanswer_due_at__lt=now)
            | Q(closed_at__isnull=True, resolve_due_at__lt=now)
        )
    return queryset.order_by("-received_at", "-pk")


def complaints_on_desk(user: Any) -> QuerySet[Complaint]:
    """Escalated by a handler or asked for by the citizen: the ombudsman's list."""
    return complaints_for_staff(user).filter(
        Q(escalated_at__isnull=False) | Q(ombudsman_requested_at__isnull=False)
    )


def complaint_for_staff(user: Any, pk: int) -> Complaint | None:
    return (
        staff_scope(
            user,
            Complaint.objects.select_related(
                "agency", "unit", "service", "delivery", "linked_breach"
            ),
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ComplaintFigures:
    received: int
    by_category: list[tuple[str, int]]  # (label, count), every category
    verified_in_time: float | None  # shares in 0..1; None: nothing due yet
    answered_in_time: float | None
    median_answer_days: float | None  # from receipt to the first answer
    reopened: float | None  # of those answered


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def complaint_figure_counts(*, now: Any) -> dict[str, Any]:
    """The counts behind the public figures, as aggregates: for one unit or service here,
    and per unit and month in the open-data export (opendata), so both count alike."""
    verify_due = Q(verify_due_at__lt=now) | Q(verify_done_at__isnull=False)
    answer_due = Q(answer_due_at__lt=now) | Q(first_answered_at__isnull=False)
    return dict(
        received=Count("pk"),
        verify_counted=Count("pk", filter=verify_due & Q(verify_due_at__isnull=False)),
        verified_in_time=Count(
            "pk", filter=Q(verify_done_at__isnull=False, verify_done_at__lte=F("verify_due_at"))
        ),
        answer_counted=Count("pk", filter=answer_due & Q(answer_due_at__isnull=False)),
        answered_in_time=Count(
            "pk",
            filter=Q(first_answered_at__isnull=False, first_answered_at__lte=F("answer_due_at")),
        ),
        answered=Count("pk", filter=Q(first_answered_at__isnull=False)),
        reopened=Count("pk", filter=Q(reopened_at__isnull=False)),
        **{
            f"cat_{value}": Count("pk", filter=Q(category=value))
            for value in ComplaintCategory.values
        },
    )


def complaint_figures(
    *,
    unit: Unit | None = None,
    service: Service | None = None,
    received: tuple[dt.date, dt.date] | None = None,
) -> ComplaintFigures:
    """The public figures (two queries, whatever the number of complaints' rows); of the
    complaints received from one day to another (inclusive, site time zone) if given."""
    queryset = Complaint.objects.all()
    if received is not None:
        since, until = received
        tz = timezone.get_current_timezone()
        queryset = queryset.filter(
            received_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz),
            received_at__lt=dt.datetime.combine(
                until + dt.timedelta(days=1), dt.time.min, tzinfo=tz
            ),
        )
    if service is not None:
        queryset = queryset.filter(service=service)
    elif unit is not None:
        queryset = queryset.filter(unit=unit)
    totals = queryset.aggregate(**complaint_figure_counts(now=timezone.now()))
    durations = [
        (answered - received).total_seconds() / 86400
        for received, answered in queryset.filter(first_answered_at__isnull=False).values_list(
            "received_at", "first_answered_at"
        )
        if answered is not None
    ]
    return ComplaintFigures(
        received=totals["received"],
        by_category=[
            (str(label), totals[f"cat_{value}"]) for value, label in ComplaintCategory.choices
        ],
        verified_in_time=_share(totals["verified_in_time"], totals["verify_counted"]),
        answered_in_time=_share(totals["answered_in_time"], totals["answer_counted"]),
        median_answer_days=statistics.median(durations) if durations else None,
        reopened=_share(totals["reopened"], totals["answered"]),
    )


def public_complaints(
    *, unit: Unit | None = None, service: Service | None = None, limit: int = 20
) -> list[Complaint]:
    """Complaints whose text may be shown: not confidential, moderated, past verification."""
    queryset = (
        Complaint.objects.filter(is_confidential=False, moderated_at__isnull=False)
        .exclude(public_text="")
        .exclude(status__in=[ComplaintStatus.RECEIVED, ComplaintStatus.NEEDS_INFO])
    )
    if service is not None:
        queryset = queryset.filter(service=service)
    elif unit is not None:
        queryset = queryset.filter(unit=unit)
    return list(
        queryset.only(
            "pk", "category", "status", "received_at", "public_text", "answer", "answered_at"
        ).order_by("-received_at")[:limit]
    )
