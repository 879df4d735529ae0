from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from agencies.policy import Action, scope
from oversight.models import Breach, SweepRun


def breaches_with_facts() -> QuerySet[Breach]:
    """Breaches with what their pages show (agency, unit, service, request)."""
    return Breach.objects.select_related("agency", "unit", "service", "delivery")


def breach_list_for_staff(*, user: Any, kind: str = "", status: str = "") -> QuerySet[Breach]:
    breaches = scope(user, breaches_with_facts(), Action.VIEW_PRIVATE)
    if kind:
        breaches = breaches.filter(kind=kind)
    if status:
        breaches = breaches.filter(status=status)
    return breaches.order_by("-occurred_at")


def sweep_runs_recent(limit: int = 20) -> QuerySet[SweepRun]:
    return SweepRun.objects.order_by("-started_at")[:limit]
