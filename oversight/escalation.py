"""The escalation ladder: silence moves a breach up, one level at a time, idempotently.

Unacknowledged (status still open) after N working days of the unit's calendar since the
breach was detected -> level 1, the head of the unit; after M more -> level 2, the agency
head and admins; after K more -> level 3, the ombudsman review queue. N, M, K come from
the agency's `EscalationPolicy` (defaults 3, 5, 10).

Each raise locks the breach row (as acknowledging does), writes the level's fan-out
notification (unique idempotency key per level) and an audit event, all in one
transaction: running the ladder twice, or twice at once, raises each breach once per level.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from agencies.calendars import calendar_for_unit, working_days_between
from agencies.models import Unit
from core.errors import ApplicationError
from notifications.keys import idempotency_key
from notifications.models import Notification
from notifications.outbox.insert import insert_notifications
from oversight.models import (
    Breach,
    BreachEscalation,
    BreachEvent,
    BreachEventKind,
    BreachStatus,
    EscalationPolicy,
)
from oversight.notices import BREACH_ESCALATED

logger = logging.getLogger(__name__)

DEFAULT_LADDER = (3, 5, 10)
TOP_LEVEL = 3


def ladder_for(agency_id: int) -> tuple[int, int, int]:
    """Cumulative thresholds in working days: (level 1, level 2, level 3)."""
    policy = EscalationPolicy.objects.filter(agency_id=agency_id).first()
    n, m, k = (
        (policy.unit_head_after_days, policy.agency_head_after_days, policy.ombudsman_after_days)
        if policy
        else DEFAULT_LADDER
    )
    return n, n + m, n + m + k


def escalation_key(breach: Breach, level: int) -> str:
    return idempotency_key(
        event=BREACH_ESCALATED,
        subject=f"breach{breach.pk}",
        recipient=f"unit:{breach.unit_id}",
        channel="email",
        level=level,
    )


def _raise_to(breach_id: int, target: int, now: dt.datetime) -> int:
    """Raise one breach to `target` (writing each level skipped); returns levels raised."""
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach_id)
        if breach.status != BreachStatus.OPEN:
            return 0
        escalation, _ = BreachEscalation.objects.get_or_create(breach=breach)
        if escalation.acknowledged_at is not None or escalation.level >= target:
            return 0
        levels = range(escalation.level + 1, target + 1)
        insert_notifications(
            [
                Notification(
                    event=BREACH_ESCALATED,
                    subject=breach,
                    unit_id=breach.unit_id,
                    channel="email",
                    level=level,
                    idempotency_key=escalation_key(breach, level),
                )
                for level in levels
            ]
        )
        BreachEvent.objects.bulk_create(
            [
                BreachEvent(
                    breach=breach,
                    kind=BreachEventKind.ESCALATED,
                    via="system",
                    level=level,
                    created_at=now,
                )
                for level in levels
            ]
        )
        escalation.level = target
        escalation.escalated_at = now
        escalation.save(update_fields=["level", "escalated_at"])
        if target >= TOP_LEVEL:
            breach.enter_desk(now)  # the top of the ladder is the ombudsman's review desk
        return len(levels)


def escalate(*, now: dt.datetime | None = None) -> dict[int, int]:
    """Run the ladder once over every open breach. Returns {level: breaches raised to it}."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    raised: dict[int, int] = dict.fromkeys(range(1, TOP_LEVEL + 1), 0)
    ladders: dict[int, tuple[int, int, int]] = {}
    calendars: dict[int, object] = {}
    candidates = (
        Breach.objects.filter(status=BreachStatus.OPEN, detected_at__lte=now)
        .exclude(escalation__acknowledged_at__isnull=False)
        .exclude(escalation__level__gte=TOP_LEVEL)
        .select_related("unit__agency", "unit__calendar", "unit__agency__calendar", "escalation")
        .order_by("pk")
    )
    for breach in candidates.iterator(chunk_size=500):
        if breach.agency_id not in ladders:
            ladders[breach.agency_id] = ladder_for(breach.agency_id)
        thresholds = ladders[breach.agency_id]
        unit: Unit = breach.unit
        if unit.pk not in calendars:
            calendars[unit.pk] = calendar_for_unit(unit)
        try:
            elapsed = working_days_between(
                calendars[unit.pk],  # type: ignore[arg-type]
                timezone.localdate(breach.detected_at),
                today,
            )
        except ApplicationError as exc:
            logger.warning("escalation: breach %s skipped: %s", breach.pk, exc.message)
            continue
        target = sum(1 for threshold in thresholds if elapsed >= threshold)
        current = getattr(breach, "escalation", None)
        if target == 0 or (current is not None and current.level >= target):
            continue
        if _raise_to(breach.pk, target, now):
            raised[target] += 1
    return raised
