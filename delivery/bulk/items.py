"""The items of a bulk request or the lines of an import: parsed and validated in Python
(types, dates, fees, service, permission, duplicates) before anything is written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.policy import Action, can
from delivery.bulk.plan import AgencyCatalogue
from delivery.bulk.results import NON_FIELD
from delivery.models import DeliveryPause, Outcome, ServiceDelivery
from services.models import Channel, Service

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

# Read once: the enums' `.values` build a new list on every call (once per item here).
_OUTCOMES = frozenset(Outcome.values)
_CHANNELS = frozenset(Channel.values)
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


# --- Validation --------------------------------------------------------------------------


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


class ItemValidator:
    """Checks items one by one against the agency's services; remembers the references
    seen, so a duplicate inside one request (or file) is refused.

    `position` names an item's place in messages: "item" (API, 0-based) or "line" (CSV).
    """

    def __init__(self, *, catalogue: AgencyCatalogue, acting_user: Any, position: str) -> None:
        self.catalogue = catalogue
        self.acting_user = acting_user
        self.position = position
        self.seen: dict[str, int] = {}

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
            service = self.catalogue.services.get(service_slug)
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

        offset = self.catalogue.calendar_for(service.unit).utc_offset_hours if service else 7
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
        if outcome and outcome not in _OUTCOMES:
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
        if channel and channel not in _CHANNELS:
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
