"""What the charter's compensation promise owes the citizen for a late request.

The unit's charter in force when the request was submitted (see `charter_in_force`) may
promise a sum per working day of delay, capped. For a
late delivery (completed after its due date) or an overdue open request, the days of
delay are the working days of the delivery's own calendar after the due date (the
extended due date, when the office extended it) up to the completion date, or up to
today while the request is still open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from agencies.calendars import working_days_between
from charter.models import Charter, CharterStatus
from oversight.models import Breach, BreachKind

DELAY_KINDS = frozenset({BreachKind.LATE_DELIVERY, BreachKind.OVERDUE_OPEN})


@dataclass(frozen=True)
class Compensation:
    per_day: int
    cap: int | None
    days_late: int
    owed: int


def _local_date(moment: dt.datetime, utc_offset_hours: int) -> dt.date:
    return (moment.astimezone(dt.UTC) + dt.timedelta(hours=utc_offset_hours)).date()


def charter_in_force(unit_id: int, moment: dt.datetime, day: dt.date) -> Charter | None:
    """The unit's charter that bound it at `moment` (local date `day`).

    A charter binds from the day it was signed until a newer one, signed later, takes over,
    or until it is withdrawn (then the unit has none until it signs a new one). Drafts bind
    nobody. A later charter never changes an earlier promise.
    """
    latest = (
        Charter.objects.exclude(status=CharterStatus.DRAFT)
        .filter(unit_id=unit_id, signed_on__lte=day)
        .order_by("-signed_on", "-number")
        .first()
    )
    if latest is None or (latest.withdrawn_at is not None and latest.withdrawn_at <= moment):
        return None
    return latest


def breach_compensation(breach: Breach, *, today: dt.date | None = None) -> Compensation | None:
    """The compensation owed for this breach, or None when the charter promises none (or
    the breach is not about a delay).

    Raises ApplicationError (code "calendar_span") if the delivery's calendar does not
    cover the dates concerned.
    """
    if breach.kind not in DELAY_KINDS or breach.delivery_id is None:
        return None
    delivery = breach.delivery
    assert delivery is not None  # delivery_id is set
    # The promise the citizen was given is the one in force when they applied.
    if delivery.due_date is None:
        return None
    calendar = delivery.calendar
    submitted = delivery.submitted_at
    charter = charter_in_force(
        breach.unit_id, submitted, _local_date(submitted, calendar.utc_offset_hours)
    )
    if charter is None or not charter.compensation_per_day:
        return None
    if delivery.completed_at is not None:
        end = _local_date(delivery.completed_at, calendar.utc_offset_hours)
    else:
        end = today or _local_date(timezone.now(), calendar.utc_offset_hours)
    days = working_days_between(calendar, delivery.due_date, end)
    return Compensation(
        per_day=charter.compensation_per_day,
        cap=charter.compensation_cap,
        days_late=days,
        owed=charter.compensation_owed(days),
    )
