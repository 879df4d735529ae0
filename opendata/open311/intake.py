"""POST requests.{fmt}: a complaint filed by a keyed client (e.g. a city's citizen app).

It goes through `complaint_submit`, the public form's own service function: the same
30-day window, the same clocks and notices, and the same privacy choices, on unless the
caller says `false`. Any read-write agency API key may file for any public service (a
citizen app relays complaints about every agency's services, as SP4N-LAPOR! does); a
read-only key may not.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from typing import Any

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.api_keys import ApiKeyActor
from agencies.models import ApiKeyScope
from core.errors import ApplicationError
from core.text import has_control_characters
from delivery.models import ServiceDelivery
from feedback.complaints.models import Complaint, ComplaintCategory
from feedback.complaints.services import Contact, complaint_submit
from opendata.open311 import records
from opendata.open311.selectors import open311_service

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 4000  # the spec's limit
MAX_LOCATION = 200  # Complaint.location
MAX_NAME = 200
MAX_PHONE = 40
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
# What the complaint service calls a field, as the caller named it.
_PARAMETER = {
    "category": f"attribute[{records.CATEGORY}]",
    "occurred_on": f"attribute[{records.OCCURRED_ON}]",
    "description": "description",
    "contact_email": "email",
    "evidence": "media_url",
}


class Refused(Exception):
    """The request cannot be filed: an HTTP status and the spec's list of descriptions."""

    def __init__(self, status: int, descriptions: list[str]) -> None:
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions


def check_writer(actor: ApiKeyActor) -> None:
    if actor.key.agency_id is None or actor.key.scope != ApiKeyScope.READ_WRITE:
        raise Refused(403, [_("This api_key may only read: filing needs a read-write key.")])


def _one(data: QueryDict, name: str) -> str:
    return (data.get(name) or "").strip()


def parse_occurred_on(value: str) -> dt.date | None:
    """A date, or a date and time with its time zone (read in the registry's zone)."""
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return timezone.localdate(moment)


def _location(data: QueryDict, problems: list[str]) -> str:
    lat, long = _one(data, "lat"), _one(data, "long")
    address, address_id = _one(data, "address_string"), _one(data, "address_id")
    if lat or long:
        try:
            lat_value, long_value = float(lat), float(long)
        except ValueError:
            lat_value = long_value = math.nan
        if not (-90 <= lat_value <= 90 and -180 <= long_value <= 180):
            problems.append(_("lat and long: send both, in degrees (WGS84)."))
            return ""
        if not address:
            return f"{lat_value:.6f}, {long_value:.6f}"
    if address:
        if len(address) > MAX_LOCATION:
            problems.append(
                _("address_string: at most %(max)d characters.") % {"max": MAX_LOCATION}
            )
        return address
    if address_id:
        return f"address_id {address_id}"[:MAX_LOCATION]
    if not (lat or long):
        problems.append(_("A location is required: lat and long, address_string or address_id."))
    return ""


def _flag(values: dict[str, list[str]], code: str, problems: list[str]) -> bool:
    raw = values.get(code, [records.TRUE])
    if len(raw) != 1 or raw[0] not in (records.TRUE, records.FALSE):
        problems.append(_("attribute[%(code)s]: true or false.") % {"code": code})
        return True
    return raw[0] == records.TRUE


def _attributes(data: QueryDict, problems: list[str]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name in data:
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match.group(1)
        if code not in records.ATTRIBUTE_CODES:
            problems.append(
                _("attribute[%(code)s]: not an attribute of this service.") % {"code": code}
            )
            continue
        values.setdefault(code, []).extend(v.strip() for v in data.getlist(name))
    return values


def _single(values: dict[str, list[str]], code: str, problems: list[str]) -> str:
    raw = [v for v in values.get(code, []) if v]
    if len(raw) > 1:
        problems.append(_("attribute[%(code)s]: one value only.") % {"code": code})
    return raw[0] if raw else ""


def open311_complaint_file(
    *, data: QueryDict, actor: ApiKeyActor, now: dt.datetime | None = None
) -> Complaint:
    """File the complaint `data` (the POSTed form) describes, or raise Refused."""
    check_writer(actor)
    bad = sorted({k for k, vs in data.lists() for v in [k, *vs] if has_control_characters(v)})
    if bad:
        raise Refused(
            400, [_("%(name)s: control characters are not allowed.") % {"name": n} for n in bad]
        )
    code = _one(data, "service_code")
    if not code:
        raise Refused(400, [_("service_code was not provided.")])
    service = open311_service(code)
    if service is None:
        raise Refused(404, [_("service_code %(code)s was not found.") % {"code": code[:40]}])

    problems: list[str] = []
    location = _location(data, problems)
    description = _one(data, "description")
    if not description:
        problems.append(_("description: describe what happened."))
    elif len(description) > MAX_DESCRIPTION:
        problems.append(_("description: at most %(max)d characters.") % {"max": MAX_DESCRIPTION})
    values = _attributes(data, problems)
    category = _single(values, records.CATEGORY, problems)
    if category not in ComplaintCategory.values:
        problems.append(
            _("attribute[%(code)s]: one of %(keys)s.")
            % {"code": records.CATEGORY, "keys": ", ".join(ComplaintCategory.values)}
        )
    occurred_raw = _single(values, records.OCCURRED_ON, problems)
    occurred_on = parse_occurred_on(occurred_raw)
    if occurred_on is None:
        problems.append(
            _("attribute[%(code)s]: a date (2026-12-01) or a date and time with its time zone.")
            % {"code": records.OCCURRED_ON}
        )
    anonymous = _flag(values, records.ANONYMOUS, problems)
    confidential = _flag(values, records.CONFIDENTIAL, problems)
    delivery = _delivery(_single(values, records.REQUEST_CODE, problems), service.pk, problems)
    name = " ".join(p for p in (_one(data, "first_name"), _one(data, "last_name")) if p)
    phone = _one(data, "phone")
    if len(name) > MAX_NAME:
        problems.append(
            _("first_name and last_name: at most %(max)d characters.") % {"max": MAX_NAME}
        )
    if len(phone) > MAX_PHONE:
        problems.append(_("phone: at most %(max)d characters.") % {"max": MAX_PHONE})
    if problems:
        raise Refused(400, problems)
    assert occurred_on is not None
    try:
        complaint = complaint_submit(
            category=category,
            occurred_on=occurred_on,
            description=description,
            service=service if delivery is None else None,
            delivery=delivery,
            location=location,
            anonymous=anonymous,
            confidential=confidential,
            contact=Contact(name=name, email=_one(data, "email"), phone=phone),
            now=now,
        )
    except ApplicationError as exc:
        parameter = _PARAMETER.get(exc.field or "", "")
        raise Refused(
            400, [f"{parameter}: {exc.message}" if parameter else str(exc.message)]
        ) from None
    logger.info("Open311: complaint %s filed with API key %s", complaint.pk, actor.key.prefix)
    return complaint


def _delivery(code: str, service_id: int, problems: list[str]) -> Any:
    if not code:
        return None
    delivery = (
        ServiceDelivery.objects.select_related("service", "unit")
        .filter(tracking_code=code.upper(), service_id=service_id)
        .first()
    )
    if delivery is None:
        problems.append(
            _("attribute[%(code)s]: no request of this service has that tracking code.")
            % {"code": records.REQUEST_CODE}
        )
    return delivery
