"""Record many deliveries at once: the bulk API and the CSV import share this module.

Every item is validated in Python first (types, dates, fees, service, permission,
duplicates), then the valid ones are written in chunks, each chunk one transaction and
one `INSERT ... ON CONFLICT (agency, reference) DO UPDATE`: idempotent on the agency's
own reference, so sending the same items twice never duplicates a delivery.

Items may also carry a pause (`paused_at`, `pause_reason`, optionally `resumed_at`). Those
items are written one by one, each in a savepoint that holds the upsert and the calls to
the real `delivery_pause`/`delivery_resume` (matched on the pause's start, so a re-send
changes nothing): a refused pause undoes that item alone. Items without a pause keep the
chunked path.

The clock rules are those of `delivery.services.delivery_record` (same validation, same
due dates, same status), but computed in Python against the calendar's days preloaded
once per request (`CalendarDays`), instead of several indexed lookups per item. A test
checks that both give the same due dates.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.calendars import calendar_national
from agencies.models import Agency, Calendar, CalendarDay, Unit
from agencies.policy import Action, can
from core.errors import ApplicationError
from delivery.models import DeliveryPause, DeliveryStatus, Outcome, ServiceDelivery
from delivery.services import DAY_UNITS, _local_date, delivery_pause, delivery_resume
from services.models import Channel, ClockStart, Service, StandardVersion, TimeUnit, VersionStatus

MAX_ITEMS = 10_000
CHUNK_SIZE = 500
NON_FIELD = "non_field_errors"
REFERENCE_MAX_LENGTH = ServiceDelivery._meta.get_field("reference").max_length or 80
REASON_MAX_LENGTH = ServiceDelivery._meta.get_field("refusal_reason").max_length or 300
PAUSE_REASON_MAX_LENGTH = DeliveryPause._meta.get_field("reason").max_length or 300
# Above any plausible fee in rupiah; keeps the value inside PostgreSQL's bigint.
MAX_FEE = 10**15
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The fields of an item, as the API names them (the CSV calls the service `service_slug`).
ITEM_FIELDS = (
    "reference",
    "service",
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "outcome",
    "fee_charged",
    "channel",
    "refusal_reason",
    "paused_at",
    "pause_reason",
    "resumed_at",
)
# What an update may change; the promise (version, unit, calendar) stays that of submission.
UPDATE_FIELDS = [
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "outcome",
    "refusal_reason",
    "fee_charged",
    "channel",
    "clock_started_at",
    "clock_start_date",
    "due_date",
    "due_at",
    "working_days_taken",
    "status",
    "updated_at",
]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLAIN_NUMBER = re.compile(r"\d+")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")


class ItemError(Exception):
    """One item's problems, field by field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- Parsing ---------------------------------------------------------------------------


def parse_moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 date and time, with or without an offset; None when empty.

    Without an offset the moment is naive: `localize` places it in the unit's time zone.
    Raises ValueError with a message fit for the user.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _DATE_ONLY.fullmatch(text):
            raise ValueError(
                _("Add the time of day, e.g. %(example)s.") % {"example": f"{text} 09:00"}
            )
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _("Not a date and time: write e.g. 2026-01-05T09:30:00+07:00 or 2026-01-05 09:30.")
            ) from None
    else:
        raise ValueError(_("Write the date and time as text, e.g. 2026-01-05T09:30:00+07:00."))
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(_("The date is out of range."))
    return moment


def localize(moment: dt.datetime | None, utc_offset_hours: int) -> dt.datetime | None:
    """A naive moment read in the unit's time zone (WIB, WITA or WIT)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=utc_offset_hours)))


def parse_fee(value: Any) -> int:
    """Whole rupiah (1000000, 1.000.000 and 1,000,000 are accepted); 0 when empty."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError(_("Write the fee as a whole number of rupiah."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(_("Write the fee as a whole number of rupiah."))
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if not text:
            return 0
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        if _PLAIN_NUMBER.fullmatch(digits):
            number = int(digits)
        elif _GROUPED_NUMBER.fullmatch(digits):
            number = int(re.sub(r"[.,]", "", digits))
        else:
            raise ValueError(_("Write the fee as a whole number of rupiah."))
        number = -number if negative else number
    else:
        raise ValueError(_("Write the fee as a whole number of rupiah."))
    if number < 0:
        raise ValueError(_("The fee cannot be negative."))
    if number > MAX_FEE:
        raise ValueError(_("The fee is too large."))
    return number


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(_("Write this as text."))
    return str(value).strip()


# --- Calendars, preloaded ----------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    date: dt.date
    at: dt.datetime


def _span_error() -> ApplicationError:
    return ApplicationError(
        _("The work calendar does not cover this date; extend its span."), code="calendar_span"
    )


class CalendarDays:
    """One calendar's materialised days in memory, with the lookups of agencies.calendars.

    {date: (working_day_index, is_working_day, day_end)} plus {working_day_index: date} of
    the working days: every due date is then a dictionary lookup.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar_id = calendar.pk
        self.utc_offset_hours = calendar.utc_offset_hours
        self.days: dict[dt.date, tuple[int, bool, dt.datetime]] = {}
        self.working_by_index: dict[int, dt.date] = {}
        rows = CalendarDay.objects.filter(calendar_id=calendar.pk).values_list(
            "date", "working_day_index", "is_working_day", "day_end"
        )
        for date, index, working, day_end in rows:
            self.days[date] = (index, working, day_end)
            if working:
                self.working_by_index[index] = date
        self.working_dates = sorted(self.working_by_index.values())

    def _day(self, date: dt.date) -> tuple[int, bool, dt.datetime]:
        day = self.days.get(date)
        if day is None:
            raise _span_error()
        return day

    def day_end(self, date: dt.date) -> dt.datetime | None:
        day = self.days.get(date)
        return day[2] if day else None

    def due_in_days(
        self, start: dt.date, days: int, *, working: bool = True, extra_working_days: int = 0
    ) -> Due:
        """Identical to agencies.calendars.due_in_days."""
        if working:
            index = self._day(start)[0] + days + extra_working_days
            target = self.working_by_index.get(index)
            if target is None:
                raise _span_error()
        else:
            try:
                target = dt.date.fromordinal(start.toordinal() + days + extra_working_days)
            except ValueError:
                raise _span_error() from None
        return Due(target, self._day(target)[2])

    def due_in_minutes(
        self, start: dt.datetime, minutes: int, *, opens_at: dt.time, closes_at: dt.time
    ) -> Due:
        """Identical to agencies.calendars.due_in_minutes."""
        offset = dt.timedelta(hours=self.utc_offset_hours)
        local = (start.astimezone(dt.UTC) + offset).replace(tzinfo=None)
        remaining = dt.timedelta(minutes=minutes)
        first = bisect.bisect_left(self.working_dates, local.date())
        for day in self.working_dates[first:]:
            window_start = dt.datetime.combine(day, opens_at)
            window_end = dt.datetime.combine(day, closes_at)
            begin = max(window_start, local) if day == local.date() else window_start
            if begin >= window_end:
                continue
            available = window_end - begin
            if remaining <= available:
                finish = begin + remaining
                return Due(day, (finish - offset).replace(tzinfo=dt.UTC))
            remaining -= available
        raise _span_error()

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Identical to agencies.calendars.working_days_between."""
        if end <= start:
            return 0
        return self._day(end)[0] - self._day(start)[0]


# --- Items and results -------------------------------------------------------------------


@dataclass
class CleanItem:
    index: int
    reference: str
    service: Service
    submitted_at: dt.datetime
    file_complete_at: dt.datetime | None
    completed_at: dt.datetime | None
    outcome: str
    refusal_reason: str
    fee_charged: int
    channel: str
    paused_at: dt.datetime | None = None
    pause_reason: str = ""
    resumed_at: dt.datetime | None = None


@dataclass
class ItemResult:
    index: int
    reference: str
    result: str  # "created", "updated" or "error"
    errors: dict[str, list[str]] = field(default_factory=dict)
    delivery_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "reference": self.reference,
            "result": self.result,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class _Version:
    pk: int
    published_at: dt.datetime
    superseded_at: dt.datetime | None
    clock_start: str
    promise_value: int
    promise_unit: str
    promised_cost: int


# --- The recorder ------------------------------------------------------------------------


class DeliveryRecorder:
    """Records deliveries of one agency in bulk; keep one per request or import job.

    Services, standard versions and calendars are loaded once and reused for every chunk.
    `position` names an item's place in messages: "item" (API, 0-based) or "line" (CSV).
    """

    def __init__(self, *, agency: Agency, acting_user: Any, position: str = "item") -> None:
        self.agency = agency
        self.acting_user = acting_user
        self.position = position
        self.seen: dict[str, int] = {}
        self._services: dict[str, Service] | None = None
        self._versions: dict[int, list[_Version]] | None = None
        self._calendars: dict[int, CalendarDays] = {}
        self._unit_calendars: dict[int, Calendar] = {}
        self._national: Calendar | None = None

    # Loading, once.
    @property
    def services(self) -> dict[str, Service]:
        if self._services is None:
            self._services = {
                s.slug: s
                for s in Service.objects.filter(agency=self.agency).select_related(
                    "unit__calendar", "unit__agency__calendar"
                )
            }
        return self._services

    def _versions_of(self, service_id: int) -> list[_Version]:
        if self._versions is None:
            self._versions = {}
            rows = StandardVersion.objects.filter(
                service__agency=self.agency,
                status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED],
                published_at__isnull=False,
            ).values_list(
                "pk",
                "service_id",
                "published_at",
                "superseded_at",
                "clock_start",
                "processing_time_value",
                "processing_time_unit",
                "total_cost",
            )
            for pk, owner_id, published, superseded, clock, value, unit, cost in rows:
                if published is None:
                    continue
                self._versions.setdefault(owner_id, []).append(
                    _Version(pk, published, superseded, clock, value or 0, unit, cost)
                )
        return self._versions.get(service_id, [])

    def calendar_for(self, unit: Unit) -> Calendar:
        """agencies.calendars.calendar_for_unit without a query per unit."""
        if unit.pk not in self._unit_calendars:
            if unit.calendar_id:
                calendar = unit.calendar
            elif unit.agency.calendar_id:
                calendar = unit.agency.calendar
            else:
                if self._national is None:
                    self._national = calendar_national()
                calendar = self._national
            assert calendar is not None
            self._unit_calendars[unit.pk] = calendar
        return self._unit_calendars[unit.pk]

    def _days_by_id(self, calendar_id: int) -> CalendarDays:
        if calendar_id not in self._calendars:
            self._calendars[calendar_id] = CalendarDays(Calendar.objects.get(pk=calendar_id))
        return self._calendars[calendar_id]

    def version_in_force(self, service: Service, at: dt.datetime) -> _Version:
        candidates = [
            v
            for v in self._versions_of(service.pk)
            if v.published_at <= at and (v.superseded_at is None or v.superseded_at > at)
        ]
        if not candidates:
            raise ApplicationError(
                _("The service had no published standard when this request was submitted."),
                code="no_standard",
                field="submitted_at",
            )
        return max(candidates, key=lambda v: v.published_at)

    # Step 1: validate in Python.
    def validate(self, index: int, raw: Any) -> CleanItem:
        if not isinstance(raw, Mapping):
            raise ItemError({NON_FIELD: [_("Each item must be an object.")]})
        errors: dict[str, list[str]] = {}

        def fail(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        reference = service_slug = outcome = channel = reason = ""
        try:
            reference = _text(raw, "reference")
        except ValueError as error:
            fail("reference", str(error))
        if not reference and "reference" not in errors:
            fail("reference", _("The agency reference is required."))
        elif len(reference) > REFERENCE_MAX_LENGTH:
            fail(
                "reference",
                _("At most %(max)d characters.") % {"max": REFERENCE_MAX_LENGTH},
            )
        elif reference and "reference" not in errors:
            first = self.seen.get(reference)
            if first is not None:
                fail(
                    "reference",
                    (
                        _("Duplicate reference: already on line %(first)d of this file.")
                        if self.position == "line"
                        else _("Duplicate reference: already in item %(first)d of this request.")
                    )
                    % {"first": first},
                )
            else:
                self.seen[reference] = index

        service: Service | None = None
        try:
            service_slug = _text(raw, "service")
        except ValueError as error:
            fail("service", str(error))
        if not service_slug and "service" not in errors:
            fail("service", _("The service is required."))
        elif service_slug:
            service = self.services.get(service_slug)
            if service is None:
                fail(
                    "service",
                    _("Unknown service “%(slug)s” in this agency.") % {"slug": service_slug},
                )
            elif self.acting_user is not None and not can(
                self.acting_user, Action.RECORD_DELIVERY, service
            ):
                fail("service", _("You may not record deliveries of this service."))
                service = None

        offset = self.calendar_for(service.unit).utc_offset_hours if service else 7
        moments: dict[str, dt.datetime | None] = {}
        for name in ("submitted_at", "file_complete_at", "completed_at", "paused_at", "resumed_at"):
            try:
                moments[name] = localize(parse_moment(raw.get(name)), offset)
            except ValueError as error:
                fail(name, str(error))
        submitted_at = moments.get("submitted_at")
        if submitted_at is None and "submitted_at" not in errors:
            fail("submitted_at", _("The submission time is required."))
        file_complete_at = moments.get("file_complete_at")
        completed_at = moments.get("completed_at")
        if submitted_at is not None:
            if file_complete_at is not None and file_complete_at < submitted_at:
                fail("file_complete_at", _("The file cannot be complete before it was submitted."))
            if completed_at is not None and completed_at < submitted_at:
                fail("completed_at", _("A request cannot be completed before it was submitted."))
            if submitted_at > timezone.now() + dt.timedelta(minutes=5):
                fail("submitted_at", _("The submission time is in the future."))

        try:
            outcome = _text(raw, "outcome").lower()
        except ValueError as error:
            fail("outcome", str(error))
        if outcome and outcome not in Outcome.values:
            fail(
                "outcome",
                _("Unknown outcome; use one of: %(values)s.")
                % {"values": ", ".join(Outcome.values)},
            )
        if completed_at is not None and not outcome:
            outcome = Outcome.GRANTED

        try:
            channel = _text(raw, "channel").lower() or Channel.COUNTER
        except ValueError as error:
            fail("channel", str(error))
        if channel and channel not in Channel.values:
            fail(
                "channel",
                _("Unknown channel; use one of: %(values)s.")
                % {"values": ", ".join(Channel.values)},
            )

        fee = 0
        try:
            fee = parse_fee(raw.get("fee_charged"))
        except ValueError as error:
            fail("fee_charged", str(error))

        try:
            reason = _text(raw, "refusal_reason")
        except ValueError as error:
            fail("refusal_reason", str(error))
        if len(reason) > REASON_MAX_LENGTH:
            fail("refusal_reason", _("At most %(max)d characters.") % {"max": REASON_MAX_LENGTH})

        paused_at, resumed_at = moments.get("paused_at"), moments.get("resumed_at")
        pause_reason = ""
        try:
            pause_reason = _text(raw, "pause_reason")
        except ValueError as error:
            fail("pause_reason", str(error))
        if len(pause_reason) > PAUSE_REASON_MAX_LENGTH:
            fail(
                "pause_reason",
                _("At most %(max)d characters.") % {"max": PAUSE_REASON_MAX_LENGTH},
            )
        if paused_at is not None:
            if not pause_reason and "pause_reason" not in errors:
                fail("pause_reason", _("Say why the clock stops."))
            if submitted_at is not None and paused_at < submitted_at:
                fail("paused_at", _("The clock cannot stop before the request was submitted."))
            if resumed_at is not None and resumed_at < paused_at:
                fail("resumed_at", _("The clock cannot resume before it stopped."))
        elif "paused_at" not in errors and (resumed_at is not None or pause_reason):
            fail("paused_at", _("Give the time the clock stopped."))

        if errors:
            raise ItemError(errors)
        assert service is not None and submitted_at is not None
        return CleanItem(
            index=index,
            reference=reference,
            service=service,
            submitted_at=submitted_at,
            file_complete_at=file_complete_at,
            completed_at=completed_at,
            outcome=outcome,
            refusal_reason=reason,
            fee_charged=fee,
            channel=channel,
            paused_at=paused_at,
            pause_reason=pause_reason,
            resumed_at=resumed_at,
        )

    # Step 2: compute the clock, as delivery_record does.
    def _build(
        self, item: CleanItem, existing: ServiceDelivery | None, paused_ids: set[int]
    ) -> ServiceDelivery:
        service = item.service
        if existing is None:
            version = self.version_in_force(service, item.submitted_at)
            calendar = self.calendar_for(service.unit)
            delivery = ServiceDelivery(
                agency_id=self.agency.pk,
                unit_id=service.unit_id,
                service_id=service.pk,
                version_id=version.pk,
                calendar_id=calendar.pk,
                reference=item.reference,
                promise_value=version.promise_value,
                promise_unit=version.promise_unit,
                promised_cost=version.promised_cost,
            )
            clock_rule = version.clock_start
            unit = service.unit
        else:
            if existing.service_id != service.pk:
                raise ApplicationError(
                    _("This reference is already used for another service."), field="reference"
                )
            delivery = existing
            clock_rule = existing.version.clock_start
            unit = existing.unit
        days = self._days_by_id(delivery.calendar_id)
        delivery.submitted_at = item.submitted_at
        delivery.file_complete_at = item.file_complete_at
        delivery.completed_at = item.completed_at
        delivery.outcome = item.outcome
        delivery.refusal_reason = item.refusal_reason
        delivery.fee_charged = item.fee_charged
        delivery.channel = item.channel
        # _apply_clock
        clock_start = (
            delivery.submitted_at
            if clock_rule == ClockStart.ON_RECEIPT
            else delivery.file_complete_at
        )
        delivery.clock_started_at = clock_start
        if clock_start is None:
            delivery.clock_start_date = None
            delivery.due_date = None
            delivery.due_at = None
        else:
            delivery.clock_start_date = _local_date(clock_start, days.utc_offset_hours)
            if delivery.extended_due_date is not None:
                delivery.due_date = delivery.extended_due_date
                delivery.due_at = days.day_end(delivery.extended_due_date)
            else:
                if delivery.promise_unit in DAY_UNITS:
                    due = days.due_in_days(
                        delivery.clock_start_date,
                        delivery.promise_value,
                        working=delivery.promise_unit == TimeUnit.WORKING_DAYS,
                        extra_working_days=delivery.paused_working_days,
                    )
                else:
                    minutes = delivery.promise_value * (
                        60 if delivery.promise_unit == TimeUnit.HOURS else 1
                    )
                    due = days.due_in_minutes(
                        clock_start,
                        minutes + delivery.paused_minutes,
                        opens_at=unit.opens_at,
                        closes_at=unit.closes_at,
                    )
                delivery.due_date, delivery.due_at = due.date, due.at
        # _apply_completion
        if delivery.completed_at is None or delivery.clock_start_date is None:
            delivery.working_days_taken = None
        else:
            end = _local_date(delivery.completed_at, days.utc_offset_hours)
            delivery.working_days_taken = max(
                0,
                days.working_days_between(delivery.clock_start_date, end)
                - delivery.paused_working_days,
            )
        # _status_for
        if delivery.outcome == Outcome.WITHDRAWN:
            delivery.status = DeliveryStatus.WITHDRAWN
        elif delivery.completed_at is not None:
            delivery.status = DeliveryStatus.COMPLETED
        elif existing is not None and existing.pk in paused_ids:
            delivery.status = DeliveryStatus.PAUSED
        elif delivery.clock_started_at is None:
            delivery.status = DeliveryStatus.WAITING
        else:
            delivery.status = DeliveryStatus.OPEN
        if existing is not None:
            # Written through the upsert, as an insert that conflicts on the reference.
            delivery.pk = None
            delivery._state.adding = True
        return delivery

    # Step 3: write one chunk.
    def _write_chunk(self, items: list[CleanItem]) -> list[ItemResult]:
        references = [item.reference for item in items]
        existing = {
            d.reference: d
            for d in ServiceDelivery.objects.select_for_update(of=("self",))
            .select_related("version", "unit")
            .filter(agency=self.agency, reference__in=references)
        }
        paused_ids = set(
            DeliveryPause.objects.filter(
                delivery_id__in=[d.pk for d in existing.values()], ended_at__isnull=True
            ).values_list("delivery_id", flat=True)
        )
        results: list[ItemResult] = []
        rows: list[tuple[ServiceDelivery, ItemResult]] = []
        for item in items:
            before = existing.get(item.reference)
            resumed = None  # the savepoint before a pause ended for this item, if any
            if (
                before is not None
                and before.pk in paused_ids
                and item.completed_at is not None
                and before.service_id == item.service.pk
            ):
                # Completed while the clock was stopped: end the pause at completion through
                # the real service, as delivery_record does, then build on the result. In a
                # savepoint: if the item fails after all, the pause is as it was.
                resumed = transaction.savepoint()
                try:
                    before = delivery_resume(
                        delivery=before, at=item.completed_at, acting_user=self.acting_user
                    )
                except ApplicationError as error:
                    transaction.savepoint_rollback(resumed)
                    if error.field == "at":
                        errors = {
                            "completed_at": [
                                _("The request cannot be completed before its clock stopped.")
                            ]
                        }
                    else:
                        errors = {error.field or NON_FIELD: [error.message]}
                    results.append(ItemResult(item.index, item.reference, "error", errors))
                    continue
                existing[item.reference] = before
                paused_ids.discard(before.pk)
            try:
                delivery = self._build(item, before, paused_ids)
            except ApplicationError as error:
                if resumed is not None:
                    transaction.savepoint_rollback(resumed)
                results.append(
                    ItemResult(
                        item.index,
                        item.reference,
                        "error",
                        {error.field or NON_FIELD: [error.message]},
                    )
                )
                continue
            result = ItemResult(
                item.index, item.reference, "created" if before is None else "updated"
            )
            rows.append((delivery, result))
            results.append(result)
        if rows:
            ServiceDelivery.objects.bulk_create(
                [delivery for delivery, _result in rows],
                update_conflicts=True,
                unique_fields=["agency", "reference"],
                update_fields=UPDATE_FIELDS,
            )
            for delivery, result in rows:
                result.delivery_id = delivery.pk
        return results

    def _apply_pause(self, item: CleanItem, delivery_id: int) -> None:
        """Pause (and resume) the written delivery through the real service functions.

        The pause is matched on its start: one already recorded is not recorded again.
        Raises ApplicationError when the transition is refused.
        """
        assert item.paused_at is not None
        delivery = ServiceDelivery.objects.get(pk=delivery_id)
        pauses = list(delivery.pauses.all())
        pause = next((p for p in pauses if p.started_at == item.paused_at), None)
        if pause is None:
            if any(
                p.started_at > item.paused_at
                or (p.ended_at is not None and p.ended_at > item.paused_at)
                for p in pauses
            ):
                raise ApplicationError(
                    _("This pause overlaps or precedes a pause already recorded."),
                    field="paused_at",
                )
            try:
                pause = delivery_pause(
                    delivery=delivery,
                    reason=item.pause_reason,
                    at=item.paused_at,
                    acting_user=self.acting_user,
                )
            except ApplicationError as error:
                if error.code == "invalid_transition":
                    raise ApplicationError(
                        _("Only a request in process can be paused."),
                        code=error.code,
                        field="paused_at",
                    ) from None
                raise
        if item.resumed_at is None:
            return
        if pause.ended_at is None:
            try:
                delivery_resume(delivery=delivery, at=item.resumed_at, acting_user=self.acting_user)
            except ApplicationError as error:
                raise ApplicationError(
                    _("The clock cannot resume before it stopped.")
                    if error.field == "at"
                    else _("This request is not paused."),
                    code=error.code,
                    field="resumed_at",
                ) from None
        elif pause.ended_at != item.resumed_at:
            raise ApplicationError(
                _("This pause already ended at another time."), field="resumed_at"
            )

    def _write_paused(self, item: CleanItem) -> ItemResult:
        """One item with a pause: the upsert and the pause in one savepoint."""
        try:
            with transaction.atomic():
                (result,) = self._write_chunk([item])
                if result.result != "error":
                    assert result.delivery_id is not None
                    self._apply_pause(item, result.delivery_id)
                return result
        except ApplicationError as error:
            return ItemResult(
                item.index, item.reference, "error", {error.field or NON_FIELD: [error.message]}
            )
        except DatabaseError:
            return ItemResult(
                item.index,
                item.reference,
                "error",
                {NON_FIELD: [_("The database refused this item; try it again.")]},
            )

    def _write(self, items: list[CleanItem]) -> list[ItemResult]:
        paused = [item for item in items if item.paused_at is not None]
        if paused:
            plain = [item for item in items if item.paused_at is None]
            results = self._write(plain) if plain else []
            return results + [self._write_paused(item) for item in paused]
        try:
            with transaction.atomic():
                return self._write_chunk(items)
        except DatabaseError:
            # One item the database refused (e.g. a concurrent writer) must not lose the
            # others: write them one by one, each in its own savepoint.
            results = []
            for item in items:
                try:
                    with transaction.atomic():
                        results.extend(self._write_chunk([item]))
                except DatabaseError:
                    results.append(
                        ItemResult(
                            item.index,
                            item.reference,
                            "error",
                            {NON_FIELD: [_("The database refused this item; try it again.")]},
                        )
                    )
            return results

    def record(
        self, raw_items: Iterable[tuple[int, Any]], *, chunk_size: int = CHUNK_SIZE
    ) -> list[ItemResult]:
        """Validate every item, then write the valid ones chunk by chunk.

        Returns one result per item, in the order given.
        """
        order: list[int] = []
        by_index: dict[int, ItemResult] = {}
        clean: list[CleanItem] = []
        for index, raw in raw_items:
            order.append(index)
            try:
                clean.append(self.validate(index, raw))
            except ItemError as error:
                reference = raw.get("reference") if isinstance(raw, Mapping) else None
                by_index[index] = ItemResult(
                    index,
                    reference if isinstance(reference, str) else "",
                    "error",
                    error.errors,
                )
        for start in range(0, len(clean), chunk_size):
            for result in self._write(clean[start : start + chunk_size]):
                by_index[result.index] = result
        return [by_index[index] for index in order]


def totals(results: Iterable[ItemResult]) -> dict[str, int]:
    counts = {"total": 0, "created": 0, "updated": 0, "error": 0}
    for result in results:
        counts["total"] += 1
        counts[result.result] += 1
    return counts
