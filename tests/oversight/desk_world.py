"""Breaches on the review desk, written directly (the desk reads columns, not the sweep)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from oversight.models import Breach, BreachEscalation

_subjects = itertools.count(1)


def desk_breach(
    *,
    agency: Any,
    unit: Any,
    service: Any = None,
    kind: str = "late_delivery",
    status: str = "open",
    days_ago: float = 10,
    on_desk_days_ago: float | None = 1,
    reason: str = "escalated",
    assignee: Any = None,
    suggested: str = "undue_delay",
    decided: str = "",
) -> Breach:
    """One breach; on the desk unless `on_desk_days_ago` is None. `reason`: escalated
    (level 3), disputed, or pulled (no ladder row)."""
    now = timezone.now()
    breach = Breach.objects.create(
        kind=kind,
        subject_type="delivery",
        subject_id=next(_subjects),
        agency=agency,
        unit=unit,
        service=service,
        occurred_at=now - dt.timedelta(days=days_ago),
        detected_at=now - dt.timedelta(days=days_ago),
        status=status,
        suggested_category=suggested,
        decided_category=decided,
        on_desk_at=now - dt.timedelta(days=on_desk_days_ago)
        if on_desk_days_ago is not None
        else None,
        assignee=assignee,
    )
    if reason == "escalated":
        BreachEscalation.objects.create(breach=breach, level=3, escalated_at=now)
    elif reason == "disputed":
        BreachEscalation.objects.create(breach=breach, level=1, disputed_at=now)
    return breach
