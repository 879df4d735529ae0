"""Draining: claim due rows, send them through their channel, record every outcome.

See the package docstring (notifications/outbox/__init__.py) for the guarantees.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from agencies.policy import Action, can
from core import metrics
from core.db_outage import outlast_outage
from core.errors import ApplicationError, PermissionDeniedError
from notifications import registry
from notifications.channels import CHANNELS, EmailConnection, Outcome, send_email_batch
from notifications.compose import Composer
from notifications.models import (
    AttemptResult,
    EmailAddressHealth,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from notifications.outbox.conf import DIGEST, EMAIL, WEBHOOK, conf
from notifications.outbox.email_health import email_health_record_refusal, health_reset
from notifications.outbox.fanout import expand_fanouts
from notifications.outbox.inflight import InFlight
from notifications.outbox.webhooks import webhook_record
from notifications.partitions import by_id_and_month


@dataclass
class DrainResult:
    expanded: int = 0
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _due(now: dt.datetime) -> Q:
    return (
        Q(status=NotificationStatus.PENDING)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & ~Q(channel=DIGEST)
    )


def claim(*, now: dt.datetime, limit: int) -> list[int]:
    """Claim due recipient rows: pending -> sending, in one short transaction."""
    return [pk for pk, _created in _claim(now=now, limit=limit)]


def _claim(*, now: dt.datetime, limit: int) -> list[tuple[int, dt.datetime]]:
    """`claim`, returning (id, created_at) of each row claimed."""
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .exclude(recipient="")
            .order_by("created_at", "pk")
            .values_list("pk", "created_at")[:limit]
        )
        if rows:
            Notification.objects.filter(by_id_and_month(rows)).update(
                status=NotificationStatus.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
    return rows


def backoff(attempts: int) -> dt.timedelta:
    seconds = conf("BACKOFF_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, conf("BACKOFF_MAX_SECONDS")))


# Only table names are interpolated (model constants); every value is a parameter.
RECORD_SENT_SQL = f"""
    WITH attempt AS (
        INSERT INTO {NotificationAttempt._meta.db_table}
            (notification_id, started_at, finished_at, result, error)
        VALUES (%s, %s, %s, %s, '')
    )
    UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s, last_error = ''
    WHERE id = %s AND created_at = %s AND status = %s"""  # noqa: S608

# The same for an email row, also resetting the address's count of refusals. Folded into
# the one statement rather than asked first: no extra round trip per sent message, and
# in the common case (no health row, or a count of 0) it is one probe of the unique
# lower(email) index of a small table that writes nothing.
RECORD_SENT_EMAIL_SQL = f"""
    WITH attempt AS (
        INSERT INTO {NotificationAttempt._meta.db_table}
            (notification_id, started_at, finished_at, result, error)
        VALUES (%s, %s, %s, %s, '')
    ), health AS (
        UPDATE {EmailAddressHealth._meta.db_table}
        SET consecutive_permanent_failures = 0, updated_at = %s
        WHERE lower(email) = lower(%s) AND consecutive_permanent_failures > 0
            AND disabled_at IS NULL
    )
    UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s, last_error = ''
    WHERE id = %s AND created_at = %s AND status = %s"""  # noqa: S608


def _sent_email_params(row: Notification, started: dt.datetime, finished: dt.datetime) -> list[Any]:
    """RECORD_SENT_EMAIL_SQL's parameters: the attempt, the address's reset, the move."""
    return [
        *(row.pk, started, finished, AttemptResult.SENT),
        *(finished, row.recipient),
        *(NotificationStatus.SENT, finished, row.pk, row.created_at, NotificationStatus.SENDING),
    ]


def record_outcome(
    row: Notification, outcome: Outcome, *, started: dt.datetime, now: dt.datetime
) -> str:
    """Record one attempt and move the row on. Returns the row's new status."""
    if outcome.result == AttemptResult.SENT and connection.vendor == "postgresql":
        # The hot path, as one statement (its own transaction): the attempt and the move to
        # `sent` commit together in a single round trip, right after the message left.
        finished = timezone.now()
        attempt: list[Any] = [row.pk, started, finished, AttemptResult.SENT]
        sent: list[Any] = [
            *(NotificationStatus.SENT, finished),
            *(row.pk, row.created_at, NotificationStatus.SENDING),
        ]
        with connection.cursor() as cursor:
            if row.channel == EMAIL:
                # + the address's reset: updated_at, the address
                cursor.execute(RECORD_SENT_EMAIL_SQL, _sent_email_params(row, started, finished))
            else:
                cursor.execute(RECORD_SENT_SQL, [*attempt, *sent])
        return NotificationStatus.SENT
    with transaction.atomic():
        NotificationAttempt.objects.create(
            notification=row,
            started_at=started,
            finished_at=timezone.now(),
            result=outcome.result,
            error=outcome.error,
        )
        still_ours = Notification.objects.filter(
            by_id_and_month([(row.pk, row.created_at)]), status=NotificationStatus.SENDING
        )
        if outcome.result == AttemptResult.SENT:
            status = NotificationStatus.SENT
            still_ours.update(status=status, sent_at=timezone.now(), last_error="")
            if row.channel == EMAIL:
                health_reset(row.recipient)
        elif outcome.result == AttemptResult.PERMANENT:
            status = NotificationStatus.FAILED
            still_ours.update(status=status, last_error=outcome.error)
            if row.channel == EMAIL and outcome.address_refused:
                email_health_record_refusal(email=row.recipient, error=outcome.error, now=now)
        else:
            window_start = row.queued_at or row.created_at
            retry_at = now + backoff(row.attempts)
            if retry_at - window_start > dt.timedelta(seconds=conf("RETRY_LIMIT_SECONDS")):
                status = NotificationStatus.FAILED
                still_ours.update(
                    status=status,
                    last_error=f"Gave up after {row.attempts} attempts: {outcome.error}",
                )
            else:
                status = NotificationStatus.PENDING
                still_ours.update(
                    status=status,
                    next_attempt_at=retry_at,
                    claimed_at=None,
                    last_error=outcome.error,
                )
    return status


class _Recorder:
    """Records each outcome the moment the channel reports it (one short transaction).

    The outcome is committed before the next message is accepted by the server, so a
    worker that dies mid-batch leaves at most the one message in flight with an unknown
    outcome ("The one window"). A sent email's record goes out `in_flight` (inflight.py):
    the channel waits for it (`before_accept`) before the next message's final ".".
    """

    def __init__(
        self, *, result: DrainResult, now: dt.datetime, in_flight: InFlight | None = None
    ) -> None:
        self.result = result
        self.now = now
        self.recorded: set[int] = set()
        self.started = timezone.now()
        self.in_flight = in_flight

    def __call__(self, row: Notification, outcome: Outcome) -> None:
        if (
            self.in_flight is not None
            and outcome.result == AttemptResult.SENT
            and (row.channel == EMAIL)
        ):
            params = _sent_email_params(row, self.started, timezone.now())
            # If the database is lost before the record is known to be committed, the
            # record is redone (waiting for the database) by `_record`, which first looks
            # whether the statement in flight did commit.
            self.in_flight.send(
                RECORD_SENT_EMAIL_SQL,
                params,
                recover=functools.partial(self._record, row, outcome, maybe_done=True),
            )
            status: str = NotificationStatus.SENT
        else:
            if self.in_flight is not None:
                self.in_flight.wait()  # before any transaction (atomic) begins
            status = self._record(row, outcome)
        self.result.outcomes[status] += 1
        metrics.notification_observed(channel=row.channel, result=outcome.result)
        self.recorded.add(row.pk)
        if row.channel == WEBHOOK and row.webhook_endpoint_id is not None:
            endpoint_id = row.webhook_endpoint_id
            outlast_outage(
                lambda: webhook_record(endpoint_id=endpoint_id, outcome=outcome, now=self.now),
                what=f"recording webhook endpoint {endpoint_id}",
                patience=record_patience(),
            )
        self.started = timezone.now()

    def _record(self, row: Notification, outcome: Outcome, *, maybe_done: bool = False) -> str:
        """Record the outcome, waiting for a database that restarts meanwhile: the message
        has left, and a row left `sending` would be sent again once re-queued. With
        `maybe_done`, an earlier attempt (the statement in flight) may already have committed.
        """
        tries = 1 if maybe_done else 0

        def once() -> str:
            nonlocal tries
            tries += 1
            if tries > 1:
                # The connection dropped during an earlier try, which may have committed.
                current = (
                    Notification.objects.filter(by_id_and_month([(row.pk, row.created_at)]))
                    .values_list("status", flat=True)
                    .first()
                )
                if current is not None and current != NotificationStatus.SENDING:
                    return str(current)
            return record_outcome(row, outcome, started=self.started, now=self.now)

        return outlast_outage(
            once, what=f"recording notification {row.pk}", patience=record_patience()
        )


def record_patience() -> float:
    """How long a drainer holding an outcome waits for the database: well within the time
    after which `requeue_stale` would take its row back (and send it again)."""
    return min(300.0, conf("STALE_SENDING_SECONDS") / 2)


def _claimed_rows(claimed: list[tuple[int, dt.datetime]]) -> list[Notification]:
    """The claimed rows with what their messages need. The accounts, units and agencies
    that many rows of a batch share are loaded once each (prefetched: one query per model
    per batch, not one copy per row), and the subjects as their app loads them for sending
    (registry.register_subjects)."""
    return list(
        Notification.objects.filter(by_id_and_month(claimed))
        .select_related("webhook_endpoint")
        .prefetch_related("user", "unit__agency", registry.subject_prefetch(sending=True))
        .order_by("pk")
    )


def drain(
    *, now: dt.datetime | None = None, batch_size: int | None = None, max_batches: int = 1000
) -> DrainResult:
    """Expand fan-outs, then claim, send and record until nothing is due. `batch_size`:
    fan-out rows expanded and recipient rows claimed at once (default: BATCH_SIZE and
    CLAIM_SIZE)."""
    now = now or timezone.now()
    result = DrainResult()
    composer = Composer()  # compiled templates and encoded bodies, for this drain
    while expand_fanouts(now=now, limit=batch_size or conf("BATCH_SIZE")):
        result.expanded += 1
    batch_size = batch_size or conf("CLAIM_SIZE")
    in_flight = InFlight() if InFlight.available() else None
    mail = EmailConnection()  # one connection to the mail server, across the batches
    try:
        with in_flight.guarding() if in_flight is not None else contextlib.nullcontext():
            _drain_batches(
                now=now,
                batch_size=batch_size,
                max_batches=max_batches,
                result=result,
                composer=composer,
                in_flight=in_flight,
                mail=mail,
            )
    finally:
        mail.close()
    return result


def _drain_batches(
    *,
    now: dt.datetime,
    batch_size: int,
    max_batches: int,
    result: DrainResult,
    composer: Composer,
    in_flight: InFlight | None,
    mail: EmailConnection,
) -> None:
    for _ in range(max_batches):
        claimed = _claim(now=now, limit=batch_size)
        if not claimed:
            break
        result.claimed += len(claimed)
        # Claimed (committed as `sending`): a restart now must not strand them until the
        # stale-row sweeper takes them back, so wait for the database instead.
        rows = outlast_outage(
            functools.partial(_claimed_rows, claimed),
            what="loading claimed notifications",
            patience=record_patience(),
        )
        by_channel: dict[str, list[Notification]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for channel, channel_rows in by_channel.items():
            recorder = _Recorder(result=result, now=now, in_flight=in_flight)
            sender = CHANNELS.get(channel)
            if sender is None:
                for row in channel_rows:
                    recorder(row, Outcome(AttemptResult.PERMANENT, f"Unknown channel {channel!r}"))
            elif sender is send_email_batch:
                send_email_batch(
                    channel_rows,
                    recorder,
                    composer=composer,
                    before_accept=in_flight.wait if in_flight is not None else None,
                    connection=mail,
                )
            else:
                sender(channel_rows, recorder)
            for row in channel_rows:
                if row.pk not in recorder.recorded:
                    recorder(row, Outcome(AttemptResult.TRANSIENT, "The channel gave no outcome."))
            if in_flight is not None:
                in_flight.wait()  # before the next claim's transaction


# --- The sweeper and the resend action ---------------------------------------------------


def requeue_stale(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Rows stuck in `sending` (their worker died) go back to pending; count due rows waiting."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=conf("STALE_SENDING_SECONDS"))
    with transaction.atomic():
        stale = list(
            Notification.objects.select_for_update(skip_locked=True).filter(
                status=NotificationStatus.SENDING, claimed_at__lt=cutoff
            )
        )
        NotificationAttempt.objects.bulk_create(
            [
                NotificationAttempt(
                    notification=row,
                    started_at=row.claimed_at or now,
                    finished_at=now,
                    result=AttemptResult.TRANSIENT,
                    error="Outcome unknown: the worker that claimed it did not finish.",
                )
                for row in stale
            ]
        )
        # By id and month: the rows found carry their created_at (the partition key).
        Notification.objects.filter(by_id_and_month((r.pk, r.created_at) for r in stale)).update(
            status=NotificationStatus.PENDING, claimed_at=None, next_attempt_at=None
        )
    waiting = (
        Notification.objects.filter(_due(now))
        .filter(created_at__lt=now - dt.timedelta(seconds=conf("PENDING_KICK_SECONDS")))
        .count()
    )
    return {"requeued": len(stale), "waiting": waiting}


def notification_resend(*, notification: Notification, acting_user: Any) -> Notification:
    """Queue a failed notification again, with a fresh retry window."""
    if not (
        can(acting_user, Action.ANSWER_BREACH, notification)
        or can(acting_user, Action.MANAGE_AGENCY, notification)
    ):
        raise PermissionDeniedError()
    # The row by id and month (its created_at, the partition key): one month read, not each.
    this_row = by_id_and_month([(notification.pk, notification.created_at)])
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(this_row)
        if row.status != NotificationStatus.FAILED:
            raise ApplicationError("Only a failed notification can be sent again.", code="state")
        row.status = NotificationStatus.PENDING
        row.next_attempt_at = None
        row.claimed_at = None
        row.queued_at = timezone.now()
        # Not save(): its UPDATE names the id alone.
        Notification.objects.filter(this_row).update(
            status=row.status,
            next_attempt_at=row.next_attempt_at,
            claimed_at=row.claimed_at,
            queued_at=row.queued_at,
        )
    return row
