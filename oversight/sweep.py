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

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import metrics
from core.db_outage import connection_lost
from core.partitioning import skipping_duplicates
from notifications.keys import idempotency_key, idempotency_key_sql, sql_text
from notifications.models import Notification
from notifications.outbox.insert import insert_notifications
from oversight.models import Breach, BreachStatus, SweepError, SweepRun
from oversight.notices import BREACH_CREATED
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
) -> int:
    """Insert the rule's new breaches and their outbox rows; returns how many were created.

    On PostgreSQL this is one statement: the breach INSERT is a data-modifying CTE whose
    RETURNING rows feed the outbox INSERT, so nothing travels to Python and back. Elsewhere
    (SQLite, the `make run` default) the ids come back and the outbox rows are bulk-created;
    both run inside the caller's transaction.
    """
    select_sql, params = rule.select(ctx, settings_for(rule))
    # No conflict target: on PostgreSQL the breach table is partitioned by month and the fact
    # key is kept by its claim table's trigger (oversight/partitions.py), which skips a
    # duplicate while SKIP_DUPLICATES is on; elsewhere the unique constraint is the only
    # unique key besides the generated id, so the two are the same.
    insert_sql = (
        f"INSERT INTO {Breach._meta.db_table} ({INSERT_COLUMNS}) {select_sql}{extra_sql} "
        "ON CONFLICT DO NOTHING RETURNING id, unit_id"
    )
    all_params = [*params, *(extra_params or [])]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # No JIT for the rule's statement (this transaction only): the planner's estimate
            # of a rule's row count grows with the table, so at a few million rows it crosses
            # the JIT thresholds and compiling (over a second under load) costs far more than
            # the incremental read it speeds up.
            cursor.execute("SET LOCAL jit = off")
            with skipping_duplicates():
                cursor.execute(
                    f"WITH new AS ({insert_sql}), outbox AS ({OUTBOX_FROM_NEW_SQL}) "
                    "SELECT COUNT(*) FROM new",
                    all_params,
                )
                return int(cursor.fetchone()[0])
        cursor.execute(insert_sql, all_params)
        created = [(row[0], row[1]) for row in cursor.fetchall()]
    _write_notifications(created)
    return len(created)


def outbox_key(breach_id: int, unit_id: int) -> str:
    """The idempotency key of a new breach's outbox row (one per breach)."""
    return idempotency_key(
        event=BREACH_CREATED,
        subject=str(breach_id),
        recipient=f"unit:{unit_id}",
        channel="email",
        level=0,
    )


# The same key, as SQL over the columns of `new` (the same layout: notifications.keys).
OUTBOX_KEY_SQL = idempotency_key_sql(
    event=sql_text(BREACH_CREATED),
    subject="new.id",
    recipient=f"{sql_text('unit:')} || new.unit_id",
    channel=sql_text("email"),
    level="0",
)

# The breach's content type, read in the statement rather than from ContentType's cache: a
# long-lived worker's cached id would be stale after the table is rebuilt (a test's flush).
BREACH_TYPE_SQL = (
    f"(SELECT id FROM {ContentType._meta.db_table} "
    f"WHERE app_label = {sql_text(Breach._meta.app_label)} "
    f"AND model = {sql_text(Breach._meta.model_name or '')})"
)

# The outbox rows of the breaches a CTE named `new` just inserted (PostgreSQL): the breach is
# the row's subject. The values and the idempotency key are exactly those
# `_write_notifications` gives.
# No conflict target: the outbox is partitioned by month too (notifications/partitions.py),
# its key kept by a claim table whose trigger skips a taken key while SKIP_DUPLICATES is on
# (`_insert` sets it for the whole statement).
OUTBOX_FROM_NEW_SQL = f"""
    INSERT INTO {Notification._meta.db_table}
        (event, subject_type_id, subject_id, unit_id, channel, recipient, level,
         idempotency_key, status, attempts, created_at, last_error)
    SELECT {sql_text(BREACH_CREATED)}, {BREACH_TYPE_SQL}, new.id, new.unit_id, 'email', '', 0,
           {OUTBOX_KEY_SQL}, 'pending', 0, statement_timestamp(), ''
    FROM new
    ON CONFLICT DO NOTHING"""


def _write_notifications(created: list[tuple[int, int]]) -> None:
    """The outbox rows for new breaches, in the same transaction as the breaches."""
    if not created:
        return
    breach_type = ContentType.objects.get_for_model(Breach)
    rows = [
        Notification(
            event=BREACH_CREATED,
            subject_type=breach_type,
            subject_id=breach_id,
            unit_id=unit_id,
            channel="email",
            level=0,
            idempotency_key=outbox_key(breach_id, unit_id),
        )
        for breach_id, unit_id in created
    ]
    insert_notifications(rows, batch_size=2000)


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
            created = _insert(rule, ctx)
        return created, 0
    except DatabaseError as exc:
        if connection_lost(exc):
            # The database went away (a restart): not a bad record. Fail the run, so that its
            # watermark is not kept and the next run examines the same changes again.
            raise
        logger.warning("sweep: rule %s failed as a set (%s); retrying row by row", rule.kind, exc)
        if rule.subject_column is None:
            SweepError.objects.create(run=run, kind=rule.kind, message=str(exc))
            return 0, 1
        try:
            with transaction.atomic():
                candidates = _candidates(rule, ctx)
        except DatabaseError as select_exc:
            if connection_lost(select_exc):
                raise
            SweepError.objects.create(run=run, kind=rule.kind, message=str(select_exc))
            return 0, 1
    created = errors = 0
    for subject_id in candidates:
        try:
            with transaction.atomic():
                created += _insert(rule, ctx, f" AND {rule.subject_column} = %s", [subject_id])
        except DatabaseError as exc:
            if connection_lost(exc):
                raise
            errors += 1
            logger.warning("sweep: %s skipped subject %s: %s", rule.kind, subject_id, exc)
            SweepError.objects.create(
                run=run, kind=rule.kind, subject_id=subject_id, message=str(exc)
            )
    return created, errors


def _resolve_corrected(now: dt.datetime, today: dt.date, since: dt.datetime) -> int:
    """Breaches whose subject was corrected resolve themselves; the row (and its history) stays.

    A corrected delivery was written since the watermark, so only those are looked at. A
    late or overdue request stays a breach when it is completed late; it resolves only when
    its times or its deadline are corrected so that it was never late.
    """
    open_ = Q(status=BreachStatus.OPEN)
    resolved = 0
    resolved += Breach.objects.filter(
        open_,
        kind="overcharge",
        delivery__updated_at__gte=since,
        delivery__fee_charged__lte=F("delivery__promised_cost"),
    ).update(status=BreachStatus.RESOLVED, resolved_at=now)
    # A completion time or a deadline corrected so that the request was not late after all
    # (e.g. a holiday added to the calendar moved the due date, or a typo in the time).
    changed = Q(open_, delivery__updated_at__gte=since)
    resolved += (
        Breach.objects.filter(changed, kind="late_delivery")
        .filter(
            Q(delivery__completed_at__isnull=True)
            | Q(delivery__due_at__isnull=True)
            | Q(delivery__completed_at__lte=F("delivery__due_at"))
        )
        .update(status=BreachStatus.RESOLVED, resolved_at=now)
    )
    resolved += (
        Breach.objects.filter(changed, kind="overdue_open")
        .filter(
            Q(delivery__due_at__isnull=True)
            | Q(delivery__completed_at__isnull=True, delivery__due_at__gt=now)
            | Q(
                delivery__completed_at__isnull=False,
                delivery__completed_at__lte=F("delivery__due_at"),
            )
        )
        .update(status=BreachStatus.RESOLVED, resolved_at=now)
    )
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

    # Both arms are indexed (updated_at; the partial due_at index of open requests), so the
    # count costs what changed, not history.
    run.examined = ServiceDelivery.objects.filter(
        Q(updated_at__gte=ctx.since) | Q(status="open", due_at__gte=ctx.since, due_at__lt=now)
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
    run.resolved = _resolve_corrected(now, local_today, ctx.since)
    run.created = result.created
    run.error_count = result.errors
    run.finished_at = timezone.now()
    # A partial run (kinds given) must not move the watermark past work it did not do.
    run.succeeded = kinds is None
    run.save()
    metrics.sweep_observed(
        seconds=(run.finished_at - run.started_at).total_seconds(),
        created=result.created,
        succeeded=run.succeeded,
    )
    if any(result.created.values()):
        from notifications.tasks import kick_drain

        # After commit (the sweep runs in autocommit, so at once; inside a caller's
        # transaction, when it commits).
        transaction.on_commit(kick_drain)
    return result
