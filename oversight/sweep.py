"""The sweep: every rule as one set-based INSERT ... SELECT ... ON CONFLICT DO NOTHING.

Idempotent and safe under concurrency: the unique constraint on (kind, subject, period)
makes duplicates impossible, so two sweeps at once, or a sweep killed halfway and run
again, end with the same breaches. Its cost grows with what changed since the last
successful run (the watermark), not with history.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Notification
from oversight.models import Breach, BreachStatus, SweepError, SweepRun
from oversight.rules import INSERT_COLUMNS, REGISTRY, Rule, SweepContext, settings_for

logger = logging.getLogger(__name__)

# Re-examine a little before the last watermark: transactions that committed late (their
# updated_at older than the watermark) are caught by the next run; re-examining is harmless.
SAFETY_MARGIN = dt.timedelta(minutes=5)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class SweepResult:
    run: SweepRun
    created: dict[str, int] = field(default_factory=dict)
    errors: int = 0


def _since() -> dt.datetime:
    last = SweepRun.objects.filter(succeeded=True).order_by("-watermark").first()
    return (last.watermark - SAFETY_MARGIN) if last else EPOCH


def _insert(
    rule: Rule, ctx: SweepContext, extra_sql: str = "", extra_params: list[Any] | None = None
) -> list[tuple[int, int]]:
    select_sql, params = rule.select(ctx, settings_for(rule))
    sql = (
        f"INSERT INTO {Breach._meta.db_table} ({INSERT_COLUMNS}) {select_sql}{extra_sql} "
        "ON CONFLICT (kind, subject_type, subject_id, period) DO NOTHING RETURNING id, unit_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(extra_params or [])])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _write_notifications(created: list[tuple[int, int]]) -> None:
    """The outbox rows for new breaches, in the same transaction as the breaches."""
    if not created:
        return
    rows = [
        Notification(
            event="breach_created",
            breach_id=breach_id,
            unit_id=unit_id,
            channel="email",
            level=0,
            idempotency_key=f"breach_created:{breach_id}:unit:{unit_id}:email:0",
        )
        for breach_id, unit_id in created
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)


def _candidates(rule: Rule, ctx: SweepContext) -> list[int]:
    """Subjects a failing rule would have examined, for re-running it row by row."""
    select_sql, params = rule.select(ctx, settings_for(rule))
    with connection.cursor() as cursor:
        cursor.execute(select_sql, params)
        # The third column of every rule's SELECT is the subject id.
        return sorted({row[2] for row in cursor.fetchall()})


def _run_rule(rule: Rule, ctx: SweepContext, run: SweepRun) -> tuple[int, int]:
    """Returns (created, errors). A failing record is logged and skipped."""
    try:
        with transaction.atomic():
            ids = _insert(rule, ctx)
            _write_notifications(ids)
        return len(ids), 0
    except DatabaseError as exc:
        logger.warning("sweep: rule %s failed as a set (%s); retrying row by row", rule.kind, exc)
        if rule.subject_column is None:
            SweepError.objects.create(run=run, kind=rule.kind, message=str(exc))
            return 0, 1
        try:
            with transaction.atomic():
                candidates = _candidates(rule, ctx)
        except DatabaseError as select_exc:
            SweepError.objects.create(run=run, kind=rule.kind, message=str(select_exc))
            return 0, 1
    created = errors = 0
    for subject_id in candidates:
        try:
            with transaction.atomic():
                ids = _insert(rule, ctx, f" AND {rule.subject_column} = %s", [subject_id])
                _write_notifications(ids)
                created += len(ids)
        except DatabaseError as exc:
            errors += 1
            logger.warning("sweep: %s skipped subject %s: %s", rule.kind, subject_id, exc)
            SweepError.objects.create(
                run=run, kind=rule.kind, subject_id=subject_id, message=str(exc)
            )
    return created, errors


def _resolve_corrected(now: dt.datetime, today: dt.date) -> int:
    """Breaches whose subject was corrected resolve themselves; the row (and its history) stays."""
    open_ = Q(status=BreachStatus.OPEN)
    resolved = 0
    resolved += Breach.objects.filter(
        open_, kind="overcharge", delivery__fee_charged__lte=F("delivery__promised_cost")
    ).update(status=BreachStatus.RESOLVED, resolved_at=now)
    resolved += (
        Breach.objects.filter(open_, kind="stale_standard")
        .filter(~Q(version__status="published") | Q(version__next_review_date__gte=today))
        .update(status=BreachStatus.RESOLVED, resolved_at=now)
    )
    resolved += (
        Breach.objects.filter(open_, kind="incomplete_standard")
        .exclude(version__status="published")
        .update(status=BreachStatus.RESOLVED, resolved_at=now)
    )
    resolved += Breach.objects.filter(
        open_, kind="missing_charter", unit__charters__status="published"
    ).update(status=BreachStatus.RESOLVED, resolved_at=now)
    return resolved


def sweep(*, now: dt.datetime | None = None, kinds: list[str] | None = None) -> SweepResult:
    """Run every registered rule once. Safe to run twice, or twice at once."""
    now = now or timezone.now()
    local_today = timezone.localdate(now)
    ctx = SweepContext(
        now=now, since=_since(), today=local_today, current_month=local_today.strftime("%Y-%m")
    )
    run = SweepRun.objects.create(started_at=timezone.now(), watermark=now)
    from delivery.models import ServiceDelivery

    run.examined = ServiceDelivery.objects.filter(
        Q(updated_at__gte=ctx.since) | Q(due_at__gte=ctx.since, due_at__lt=now)
    ).count()
    result = SweepResult(run=run)
    for kind, rule in REGISTRY.items():
        if kinds is not None and kind not in kinds:
            continue
        if not settings_for(rule).active:
            continue
        created, errors = _run_rule(rule, ctx, run)
        result.created[kind] = created
        result.errors += errors
    run.resolved = _resolve_corrected(now, local_today)
    run.created = result.created
    run.error_count = result.errors
    run.finished_at = timezone.now()
    # A partial run (kinds given) must not move the watermark past work it did not do.
    run.succeeded = kinds is None
    run.save()
    return result
