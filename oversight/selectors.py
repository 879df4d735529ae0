from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from agencies.policy import Action, scope
from oversight.models import Breach, SweepRun


def breach_list_for_staff(*, user: Any, kind: str = "", status: str = "") -> QuerySet[Breach]:
    breaches = scope(user, Breach.objects.all(), Action.VIEW_PRIVATE).select_related(
        "agency", "unit", "service", "delivery"
    )
    if kind:
        breaches = breaches.filter(kind=kind)
    if status:
        breaches = breaches.filter(status=status)
    return breaches.order_by("-occurred_at")


def sweep_runs_recent(limit: int = 20) -> QuerySet[SweepRun]:
    return SweepRun.objects.order_by("-started_at")[:limit]
