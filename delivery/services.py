"""Writes for service deliveries: record, clock rules (start, pauses, extension), completion.

Due dates are computed when a delivery is recorded or its clock changes (by
`delivery.clock`, over `agencies.calendars.clock_due`: the one clock, shared with the bulk
path), and moved set-based when a work calendar changes (`deliveries_recompute_due`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.calendars import (
    CalendarDays,
    calendar_for_unit,
    due_day_sql,
    local_date,
    working_days_between,
)
from agencies.models import CalendarDay
from agencies.policy import Action, can
from core.audit import person
from core.errors import ApplicationError, PermissionDeniedError
from delivery.clock import DAY_UNITS, clock_apply, completion_apply, status_of
from delivery.models import (
    ACTIVE_STATUSES,
    DeliveryPause,
    DeliveryStatus,
    Outcome,
    ServiceDelivery,
)
from delivery.references import ARCHIVED_REFERENCE, RACE_RETRIES, is_reference_race, lock_claims
from services.models import Service, StandardVersion, TimeUnit, VersionStatus


def version_in_force(service: Service, at: dt.datetime) -> StandardVersion:
    """The standard version that was the promise at `at` (the citizen is held to, and
    protected by, the promise made at submission)."""
    version = (
        StandardVersion.objects.filter(
            service=service,
            status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED],
            published_at__lte=at,
        )
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=at))
        .order_by("-published_at")
        .first()
    )
    if version is None:
        raise ApplicationError(
            "The service had no published standard when this request was submitted.",
            code="no_standard",
            field="submitted_at",
        )
    return version


def _apply_clock(delivery: ServiceDelivery) -> None:
    """Set the clock start and the due date from the delivery's facts (one row)."""
    clock_apply(
        delivery, days=CalendarDays(delivery.calendar), clock_rule=delivery.version.clock_start
    )


def _apply_completion(delivery: ServiceDelivery) -> None:
    completion_apply(delivery, days=CalendarDays(delivery.calendar))


def _validate_times(
    submitted_at: dt.datetime,
    file_complete_at: dt.datetime | None,
    completed_at: dt.datetime | None,
) -> None:
    if file_complete_at is not None and file_complete_at < submitted_at:
        raise ApplicationError(
            "The file cannot be complete before it was submitted.", field="file_complete_at"
        )
    if completed_at is not None and completed_at < submitted_at:
        raise ApplicationError(
            "A request cannot be completed before it was submitted.", field="completed_at"
        )
    if submitted_at > timezone.now() + dt.timedelta(minutes=5):
        raise ApplicationError("The submission time is in the future.", field="submitted_at")


def _status_for(delivery: ServiceDelivery) -> str:
    return status_of(
        delivery,
        paused=lambda: (
            delivery.pauses.filter(ended_at__isnull=True).exists() if delivery.pk else False
        ),
    )


def delivery_record(
    *,
    service: Service,
    reference: str,
    submitted_at: dt.datetime,
    acting_user: Any = None,
    file_complete_at: dt.datetime | None = None,
    completed_at: dt.datetime | None = None,
    outcome: str = "",
    refusal_reason: str = "",
    fee_charged: int = 0,
    channel: str = "counter",
) -> tuple[ServiceDelivery, bool]:
    """Record a delivery, or update the one with the same agency reference (idempotent).

    Returns (delivery, created). Tried again when another writer (an import, a colleague)
    inserted the same reference meanwhile: the next try finds it and updates it.
    """
    for attempt in range(RACE_RETRIES + 1):
        try:
            return _delivery_record_once(
                service=service,
                reference=reference,
                submitted_at=submitted_at,
                acting_user=acting_user,
                file_complete_at=file_complete_at,
                completed_at=completed_at,
                outcome=outcome,
                refusal_reason=refusal_reason,
                fee_charged=fee_charged,
                channel=channel,
            )
        except IntegrityError as error:
            if attempt == RACE_RETRIES or not is_reference_race(error):
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _delivery_record_once(
    *,
    service: Service,
    reference: str,
    submitted_at: dt.datetime,
    acting_user: Any,
    file_complete_at: dt.datetime | None,
    completed_at: dt.datetime | None,
    outcome: str,
    refusal_reason: str,
    fee_charged: int,
    channel: str,
) -> tuple[ServiceDelivery, bool]:
    if acting_user is not None and not can(acting_user, Action.RECORD_DELIVERY, service):
        raise PermissionDeniedError()
    reference = reference.strip()
    if not reference:
        raise ApplicationError("The agency reference is required.", field="reference")
    if fee_charged < 0:
        raise ApplicationError("The fee cannot be negative.", field="fee_charged")
    if outcome and outcome not in Outcome.values:
        raise ApplicationError("Unknown outcome.", field="outcome")
    if completed_at is not None and not outcome:
        outcome = Outcome.GRANTED
    _validate_times(submitted_at, file_complete_at, completed_at)
    # The claim first (delivery/references.py): it never moves, the row may (an import that
    # corrects the submission time moves it to another month) and waiting on it would fail.
    claimed = lock_claims(service.agency_id, [reference])
    delivery = (
        ServiceDelivery.objects.select_for_update()
        .filter(agency_id=service.agency_id, reference=reference)
        .first()
    )
    if delivery is None and claimed:
        raise ApplicationError(str(ARCHIVED_REFERENCE), field="reference", code="archived")
    created = delivery is None
    if delivery is None:
        version = version_in_force(service, submitted_at)
        delivery = ServiceDelivery(
            agency_id=service.agency_id,
            unit=service.unit,
            service=service,
            version=version,
            calendar=calendar_for_unit(service.unit),
            reference=reference,
            promise_value=version.processing_time_value or 0,
            promise_unit=version.processing_time_unit,
            promised_cost=version.total_cost,
        )
    elif delivery.service_id != service.pk:
        raise ApplicationError(
            "This reference is already used for another service.", field="reference"
        )
    delivery.submitted_at = submitted_at
    delivery.file_complete_at = file_complete_at
    delivery.completed_at = completed_at
    delivery.outcome = outcome
    delivery.refusal_reason = refusal_reason
    delivery.fee_charged = fee_charged
    delivery.channel = channel
    if not created and completed_at is not None:
        # Completed while the clock was stopped: the pause ends at completion, as with
        # delivery_complete, so the paused days are not counted against the unit.
        try:
            _end_pause(delivery, completed_at)
        except ApplicationError as error:
            raise ApplicationError(
                "The request cannot be completed before its clock stopped.",
                field="completed_at",
                code=error.code,
            ) from error
    _apply_clock(delivery)
    _apply_completion(delivery)
    delivery.status = _status_for(delivery)
    delivery.save()
    return delivery, created


def _locked(delivery: ServiceDelivery, acting_user: Any) -> ServiceDelivery:
    if acting_user is not None and not can(acting_user, Action.RECORD_DELIVERY, delivery):
        raise PermissionDeniedError()
    lock_claims(delivery.agency_id, [delivery.reference])  # first: the row may move
    return (
        ServiceDelivery.objects.select_for_update()
        .select_related("version", "calendar", "unit__agency")
        .get(pk=delivery.pk)
    )


@transaction.atomic
def delivery_complete(
    *,
    delivery: ServiceDelivery,
    completed_at: dt.datetime,
    outcome: str = Outcome.GRANTED,
    fee_charged: int | None = None,
    refusal_reason: str = "",
    acting_user: Any = None,
) -> ServiceDelivery:
    locked = _locked(delivery, acting_user)
    if locked.status in (DeliveryStatus.COMPLETED, DeliveryStatus.WITHDRAWN):
        raise ApplicationError("This request is already closed.", code="closed")
    if outcome not in Outcome.values:
        raise ApplicationError("Unknown outcome.", field="outcome")
    _validate_times(locked.submitted_at, locked.file_complete_at, completed_at)
    if locked.status == DeliveryStatus.PAUSED:
        _end_pause(locked, completed_at)
    locked.completed_at = completed_at
    locked.outcome = outcome
    locked.refusal_reason = refusal_reason
    if fee_charged is not None:
        if fee_charged < 0:
            raise ApplicationError("The fee cannot be negative.", field="fee_charged")
        locked.fee_charged = fee_charged
    _apply_completion(locked)
    locked.status = _status_for(locked)
    locked.save()
    return locked


@transaction.atomic
def delivery_withdraw(
    *, delivery: ServiceDelivery, at: dt.datetime, acting_user: Any = None
) -> ServiceDelivery:
    locked = _locked(delivery, acting_user)
    if locked.status in (DeliveryStatus.COMPLETED, DeliveryStatus.WITHDRAWN):
        raise ApplicationError("This request is already closed.", code="closed")
    if locked.status == DeliveryStatus.PAUSED:
        _end_pause(locked, at)
    locked.outcome = Outcome.WITHDRAWN
    locked.status = DeliveryStatus.WITHDRAWN
    locked.save()
    return locked


@transaction.atomic
def delivery_file_complete(
    *, delivery: ServiceDelivery, at: dt.datetime, acting_user: Any = None
) -> ServiceDelivery:
    """The file is complete (and fees paid): the clock starts if the standard says so."""
    locked = _locked(delivery, acting_user)
    _validate_times(locked.submitted_at, at, locked.completed_at)
    locked.file_complete_at = at
    _apply_clock(locked)
    locked.status = _status_for(locked)
    locked.save()
    return locked


@transaction.atomic
def delivery_pause(
    *, delivery: ServiceDelivery, reason: str, at: dt.datetime, acting_user: Any = None
) -> DeliveryPause:
    locked = _locked(delivery, acting_user)
    if locked.status != DeliveryStatus.OPEN:
        raise ApplicationError(
            "Only a request in process can be paused.", code="invalid_transition"
        )
    if not reason.strip():
        raise ApplicationError("Say why the clock stops.", field="reason")
    pause = DeliveryPause.objects.create(delivery=locked, reason=reason, started_at=at)
    locked.status = DeliveryStatus.PAUSED
    locked.save(update_fields=["status", "updated_at"])
    return pause


def _end_pause(locked: ServiceDelivery, at: dt.datetime) -> None:
    pause = locked.pauses.select_for_update().filter(ended_at__isnull=True).first()
    if pause is None:
        return
    if at < pause.started_at:
        raise ApplicationError("The clock cannot resume before it stopped.", field="at")
    pause.ended_at = at
    pause.save(update_fields=["ended_at"])
    offset = locked.calendar.utc_offset_hours
    if locked.promise_unit in DAY_UNITS:
        start, end = local_date(pause.started_at, offset), local_date(at, offset)
        if locked.promise_unit == TimeUnit.WORKING_DAYS:
            locked.paused_working_days += working_days_between(locked.calendar, start, end)
        else:
            locked.paused_working_days += (end - start).days
    else:
        locked.paused_minutes += int((at - pause.started_at).total_seconds() // 60)
    _apply_clock(locked)


@transaction.atomic
def delivery_resume(
    *, delivery: ServiceDelivery, at: dt.datetime, acting_user: Any = None
) -> ServiceDelivery:
    locked = _locked(delivery, acting_user)
    if locked.status != DeliveryStatus.PAUSED:
        raise ApplicationError("This request is not paused.", code="invalid_transition")
    _end_pause(locked, at)
    locked.status = DeliveryStatus.OPEN
    locked.save()
    return locked


@transaction.atomic
def delivery_extend(
    *, delivery: ServiceDelivery, new_due_date: dt.date, reason: str, acting_user: Any
) -> ServiceDelivery:
    """One extension per delivery, with reason and approver, if the agency allows it."""
    if acting_user is None or not can(acting_user, Action.PUBLISH_STANDARD, delivery):
        raise PermissionDeniedError("Only an approver of the agency may extend a deadline.")
    locked = _locked(delivery, acting_user)
    if not locked.unit.agency.allows_extension:
        raise ApplicationError("This agency does not allow extensions.", code="no_extension")
    if locked.extended_due_date is not None:
        raise ApplicationError("A request can be extended only once.", code="already_extended")
    if locked.status not in ACTIVE_STATUSES:
        raise ApplicationError("Only an open request can be extended.", code="invalid_transition")
    if locked.due_date is not None and new_due_date <= locked.due_date:
        raise ApplicationError(
            "The new due date must be later than the current one.", field="new_due_date"
        )
    if not reason.strip():
        raise ApplicationError("Give the reason for the extension.", field="reason")
    locked.extended_due_date = new_due_date
    locked.extension_reason = reason
    locked.extension_approved_by = person(acting_user)
    _apply_clock(locked)
    locked.save()
    return locked


_RECOMPUTE_SQL = """
    UPDATE {delivery} SET due_date = target.date, due_at = target.day_end, updated_at = %s
    FROM {day} AS start, {day} AS target
    WHERE start.calendar_id = {delivery}.calendar_id
      AND start.date = {delivery}.clock_start_date
      AND target.calendar_id = {delivery}.calendar_id
      AND {match}
      AND {delivery}.calendar_id IN ({calendars})
      AND {delivery}.status IN ('open', 'paused')
      AND {delivery}.extended_due_date IS NULL
      AND {delivery}.clock_start_date IS NOT NULL
      AND {delivery}.due_date >= %s
      AND {delivery}.promise_unit = %s
"""


def _recompute_day_promises(calendar_ids: list[int], since: dt.date, unit: str) -> int:
    """One UPDATE ... FROM joining each delivery to its start and due calendar days
    (PostgreSQL, and SQLite >= 3.33), on the clock's own rule (`due_day_sql`)."""
    if not calendar_ids:
        return 0
    delivery_table = ServiceDelivery._meta.db_table
    day_table = CalendarDay._meta.db_table
    sql = _RECOMPUTE_SQL.format(
        delivery=delivery_table,
        day=day_table,
        match=due_day_sql(
            start="start",
            target="target",
            days=f"{delivery_table}.promise_value + {delivery_table}.paused_working_days",
            working=unit == TimeUnit.WORKING_DAYS,
        ),
        calendars=", ".join(["%s"] * len(calendar_ids)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), *calendar_ids, since, unit])
        return cursor.rowcount


def open_deliveries_on(calendar_ids: list[int], since: dt.date) -> QuerySet[ServiceDelivery]:
    return ServiceDelivery.objects.filter(
        calendar_id__in=calendar_ids,
        status__in=ACTIVE_STATUSES,
        extended_due_date__isnull=True,
        clock_start_date__isnull=False,
        due_date__gte=since,
    )


@transaction.atomic
def deliveries_recompute_due(*, calendar_ids: list[int], since: dt.date) -> int:
    """Move the due dates of open deliveries after a calendar change: one UPDATE per kind
    of promise for day-based promises; hour-based ones (few, same-day) row by row, through
    the same clock as delivery_record."""
    moved = 0
    base = open_deliveries_on(calendar_ids, since)
    for unit in DAY_UNITS:
        moved += _recompute_day_promises(calendar_ids, since, unit)
    for delivery in base.exclude(promise_unit__in=DAY_UNITS).select_related(
        "version", "calendar", "unit"
    ):
        _apply_clock(delivery)
        delivery.save(update_fields=["due_date", "due_at", "updated_at"])
        moved += 1
    return moved
