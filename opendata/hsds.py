"""Open Referral HSDS 3.0 documents from the registry's published data: a pure builder.

Nothing here reads the database: `opendata.hsds_selectors` hands in services, agencies,
units and locations with what they point to already loaded.

Mapping decisions:
- Every HSDS identifier is a UUID that never changes. An organization (agency) and a
  service, the two things a client fetches by id, get a UUID version 8 (RFC 9562) whose
  high bits are fixed for the kind and whose low 62 bits are the primary key, so that
  `/services/{id}` finds its row without a lookup table (`decode_id`). Everything nested
  (locations, schedules, phones, costs...) gets a UUID version 5 over a fixed namespace and
  the kind and keys of what it stands for.
- agency -> organization; service with a published standard -> service (status `active`,
  `inactive` while its unit is closed); the unit's own office (when it has an address or
  coordinates) and every place the unit has a counter at (public service malls included)
  -> location + service_at_location; facilities for vulnerable groups -> accessibility on
  that location; service hours per weekday -> schedules (RFC 5545: `freq` WEEKLY, `byday`,
  opening and closing times with the UTC offset of the unit's calendar), one schedule per
  group of days with the same hours.
- The standard: procedure steps and channels -> application_process; processing time ->
  wait_time; costs -> cost_options in IDR (a free service has one option of amount 0) and
  fees_description; requirements (persyaratan) -> required_documents; complaint channels
  by phone, WhatsApp or email -> phones and contacts; the agency's region -> service_area.
- The text is in Indonesian, the language the data is written in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation

from agencies.models import AccessFacility, Agency, AgencyLevel, Location, LocationKind, Unit
from services.models import (
    Channel,
    ComplaintChannelKind,
    Service,
    StandardVersion,
    TimeUnit,
)

HSDS_VERSION = "3.0"
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/hsds/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
CURRENCY = "IDR"
LANGUAGE = "id"

# Fixed for ever: changing either changes every identifier published.
NAMESPACE = uuid.UUID("6f1c1e58-3c1e-5b52-9a0e-6d616b6c756d")
_PK_BITS = 62
_PK_MASK = (1 << _PK_BITS) - 1
ORGANIZATION = "organization"
SERVICE = "service"

BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_POSTAL_CODE = re.compile(r"\b(\d{5})\b\s*$")


# --- Identifiers ------------------------------------------------------------------------------


def _kind_prefix(kind: str) -> int:
    """60 bits fixed for the kind (from a hash of the namespace and the kind's name)."""
    digest = hashlib.sha256(f"{NAMESPACE}/{kind}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 4


def entity_id(kind: str, pk: int) -> str:
    """The UUID (version 8) of an organization or a service: invertible by `decode_id`."""
    prefix = _kind_prefix(kind)
    high = ((prefix >> 12) << 16) | (0x8 << 12) | (prefix & 0xFFF)  # 48 bits, version, 12 bits
    low = (0b10 << _PK_BITS) | (pk & _PK_MASK)  # the RFC 9562 variant, then the key
    return str(uuid.UUID(int=(high << 64) | low))


def decode_id(kind: str, value: str) -> int | None:
    """The primary key an `entity_id` of this kind stands for, or None for anything else."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return None
    pk = parsed.int & _PK_MASK
    if pk == 0 or entity_id(kind, pk) != str(parsed):
        return None
    return pk


def child_id(kind: str, *keys: Any) -> str:
    """The UUID (version 5) of a nested record: stable for the same kind and keys."""
    return str(uuid.uuid5(NAMESPACE, "/".join([kind, *(str(k) for k in keys)])))


# --- Small pieces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """What a unit or location without a calendar of its own falls back to: the national
    calendar's weekly days off and time zone."""

    weekend: tuple[int, ...] = (5, 6)
    utc_offset_hours: int = 7


def _label(choices: Any, key: str) -> str:
    with translation.override(LANGUAGE):
        return str(dict(choices.choices).get(key, key))


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


def _offset(hours: int) -> str:
    sign = "+" if hours >= 0 else "-"
    return f"{sign}{abs(hours):02d}:00"


def _rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    """Leave out fields without a value (HSDS fields are optional unless required)."""
    return {k: v for k, v in record.items() if v is not None and v != ""}


def _calendar_of(*candidates: Any) -> Any:
    for calendar in candidates:
        if calendar is not None:
            return calendar
    return None


def _utc_offset(calendar: Any, defaults: Defaults) -> int:
    return int(calendar.utc_offset_hours) if calendar is not None else defaults.utc_offset_hours


Week = list[tuple[int, dt.time, dt.time]]


def unit_week(unit: Unit, defaults: Defaults) -> Week:
    """The unit's service hours: its own per weekday, else its calendar's working days from
    `opens_at` to `closes_at` (as agencies.selectors.unit_week, without reading anything)."""
    if unit.weekly_hours:
        return sorted(
            (int(day), dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1]))
            for day, pair in unit.weekly_hours.items()
        )
    calendar = _calendar_of(unit.calendar, unit.agency.calendar)
    weekend = set(calendar.weekend_days if calendar is not None else defaults.weekend)
    return [(day, unit.opens_at, unit.closes_at) for day in range(7) if day not in weekend]


def location_week(location: Location) -> Week:
    return sorted(
        (int(day), dt.time.fromisoformat(pair[0]), dt.time.fromisoformat(pair[1]))
        for day, pair in (location.weekly_hours or {}).items()
    )


def schedules(
    week: Week, *, owner: str, utc_offset_hours: int, link: dict[str, str]
) -> list[dict[str, Any]]:
    """RFC 5545-style weekly schedules: one per group of days with the same hours."""
    groups: dict[tuple[dt.time, dt.time], list[int]] = {}
    for day, opens, closes in week:
        groups.setdefault((opens, closes), []).append(day)
    offset = _offset(utc_offset_hours)
    result = []
    for (opens, closes), days in groups.items():
        opens_at, closes_at = f"{opens:%H:%M}{offset}", f"{closes:%H:%M}{offset}"
        result.append(
            {
                "id": child_id("schedule", owner, opens_at, closes_at),
                **link,
                "freq": "WEEKLY",
                "wkst": "MO",
                "byday": ",".join(BYDAY[d] for d in days),
                "opens_at": opens_at,
                "closes_at": closes_at,
                "timezone": utc_offset_hours,
                "description": (
                    f"{', '.join(_DAY_NAMES[d] for d in days)} "
                    f"{opens:%H:%M}-{closes:%H:%M} (UTC{offset})"
                ),
                "attending_type": "Datang langsung",
            }
        )
    return result


def accessibility(keys: Iterable[str], note: str, *, owner: str, location_id: str) -> list[Any]:
    """One accessibility entry per facility for vulnerable groups, and the free-text note."""
    labels = dict(AccessFacility.choices)
    entries = []
    with translation.override(LANGUAGE):
        for key in keys or []:
            if key in labels:
                entries.append(
                    {
                        "id": child_id("accessibility", owner, key),
                        "location_id": location_id,
                        "description": str(labels[key]),
                        "details": key,
                    }
                )
    if note.strip():
        entries.append(
            {
                "id": child_id("accessibility", owner, "note"),
                "location_id": location_id,
                "description": note.strip(),
            }
        )
    return entries


def _address(
    *, text: str, city: str, province: str, owner: str, location_id: str
) -> list[dict[str, Any]]:
    text = text.strip()
    if not text:
        return []
    postal = _POSTAL_CODE.search(text)
    return [
        {
            "id": child_id("address", owner),
            "location_id": location_id,
            "address_1": text,
            "city": city,
            "state_province": province,
            "postal_code": postal.group(1) if postal else "",
            "country": "ID",
            "address_type": "physical",
        }
    ]


def _phones(number: str, *, owner: str, link: dict[str, str], description: str = "") -> list[Any]:
    number = number.strip()
    if not number:
        return []
    return [
        _compact(
            {
                "id": child_id("phone", owner, number),
                **link,
                "number": number,
                "type": "voice",
                "description": description,
            }
        )
    ]


def _coordinate(value: Any) -> float | None:
    return None if value is None else float(value)


# --- Locations --------------------------------------------------------------------------------


def unit_location(unit: Unit, defaults: Defaults) -> dict[str, Any] | None:
    """The unit's own office, where it has an address or coordinates."""
    if not unit.address.strip() and unit.latitude is None:
        return None
    owner = f"unit/{unit.pk}"
    location_id = child_id("location", owner)
    agency = unit.agency
    calendar = _calendar_of(unit.calendar, agency.calendar)
    return _compact(
        {
            "id": location_id,
            "location_type": "physical",
            "organization_id": entity_id(ORGANIZATION, agency.pk),
            "name": unit.name,
            "description": f"Kantor {unit.name}, {agency.name}.",
            "latitude": _coordinate(unit.latitude),
            "longitude": _coordinate(unit.longitude),
            "addresses": _address(
                text=unit.address,
                city=agency.region_name if agency.level in _LOCAL_LEVELS else "",
                province=agency.region_name if agency.level == AgencyLevel.PROVINCE else "",
                owner=owner,
                location_id=location_id,
            ),
            "phones": _phones(
                unit.phone or agency.phone, owner=owner, link={"location_id": location_id}
            ),
            "accessibility": accessibility(
                unit.facilities, unit.facilities_note, owner=owner, location_id=location_id
            ),
            "schedules": schedules(
                unit_week(unit, defaults),
                owner=owner,
                utc_offset_hours=_utc_offset(calendar, defaults),
                link={"location_id": location_id},
            ),
            "languages": [_language(owner, {"location_id": location_id})],
        }
    )


_LOCAL_LEVELS = frozenset({AgencyLevel.REGENCY, AgencyLevel.CITY})


def place_location(location: Location, defaults: Defaults) -> dict[str, Any]:
    """A place units serve at (an office, a public service mall, another service point)."""
    owner = f"location/{location.pk}"
    location_id = child_id("location", owner)
    host = location.host_agency
    return _compact(
        {
            "id": location_id,
            "location_type": "physical",
            "organization_id": entity_id(ORGANIZATION, host.pk),
            "name": location.name,
            "description": f"{_label(LocationKind, location.kind)}: {location.name}.",
            "latitude": _coordinate(location.latitude),
            "longitude": _coordinate(location.longitude),
            "external_identifier": location.region_code or None,
            "external_identifier_type": "Kode wilayah Kemendagri" if location.region_code else None,
            "addresses": _address(
                text=location.address,
                city=location.city,
                province=location.province,
                owner=owner,
                location_id=location_id,
            ),
            "phones": _phones(location.phone, owner=owner, link={"location_id": location_id}),
            "accessibility": accessibility(
                location.facilities, location.facilities_note, owner=owner, location_id=location_id
            ),
            "schedules": schedules(
                location_week(location),
                owner=owner,
                utc_offset_hours=_utc_offset(host.calendar, defaults),
                link={"location_id": location_id},
            ),
            "languages": [_language(owner, {"location_id": location_id})],
        }
    )


def _language(owner: str, link: dict[str, str]) -> dict[str, Any]:
    return {"id": child_id("language", owner), **link, "name": "Bahasa Indonesia", "code": "id"}


# --- Organizations ----------------------------------------------------------------------------


def organization_basic(agency: Agency, *, base: str) -> dict[str, Any]:
    """The one-to-one fields of an organization (organization_list.json)."""
    level = _label(AgencyLevel, agency.level)
    region = f", {agency.region_name}" if agency.region_name else ""
    return _compact(
        {
            "id": entity_id(ORGANIZATION, agency.pk),
            "name": agency.name,
            "alternate_name": agency.short_name,
            "description": f"Penyelenggara pelayanan publik ({level}{region}).",
            "email": _email(agency.email),
            "website": agency.website,
            "legal_status": "Instansi pemerintah",
            "logo": f"{base}{agency.logo.url}" if agency.logo else None,
            "uri": f"{base}{agency.get_absolute_url()}",
        }
    )


def organization_full(
    agency: Agency,
    *,
    base: str,
    locations: Sequence[dict[str, Any]] = (),
    services: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """An organization with its phones, locations and (list-style) services."""
    document = organization_basic(agency, base=base)
    owner = f"agency/{agency.pk}"
    organization_id = document["id"]
    document["phones"] = _phones(
        agency.phone, owner=owner, link={"organization_id": organization_id}
    )
    identifiers = []
    if agency.region_code:
        identifiers.append(
            {
                "id": child_id("organization_identifier", owner, "region"),
                "organization_id": organization_id,
                "identifier_type": "Kode wilayah Kemendagri",
                "identifier": agency.region_code,
            }
        )
    document["organization_identifiers"] = identifiers
    document["locations"] = list(locations)
    if services:
        document["services"] = list(services)
    return document


# --- Services ---------------------------------------------------------------------------------


def _processing_time(version: StandardVersion) -> str | None:
    if version.processing_time_value is None or not version.processing_time_unit:
        return None
    return f"{version.processing_time_value} {_label(TimeUnit, version.processing_time_unit)}"


def _application_process(service: Service, version: StandardVersion) -> str | None:
    lines = []
    channels = [_label(Channel, code) for code in service.channels or []]
    if channels:
        lines.append("Saluran: " + ", ".join(channels) + ".")
    for n, step in enumerate(version.steps.all(), start=1):
        lines.append(f"{n}. {step.actor}: {step.description}")
    return "\n".join(lines) or None


def _fees(version: StandardVersion) -> str:
    if version.is_free:
        return "Gratis (tidak dipungut biaya)."
    items = [f"{item.name}: {_rupiah(item.amount)}" for item in version.cost_items.all()]
    return "; ".join(items) + "." if items else ""


def _cost_options(service_id: str, service: Service, version: StandardVersion) -> list[Any]:
    if version.is_free:
        return [
            {
                "id": child_id("cost_option", service.pk, "free"),
                "service_id": service_id,
                "option": "Gratis",
                "currency": CURRENCY,
                "amount": 0,
            }
        ]
    return [
        _compact(
            {
                "id": child_id("cost_option", service.pk, item.pk),
                "service_id": service_id,
                "option": item.name,
                "currency": CURRENCY,
                "amount": item.amount,
                "amount_description": item.legal_basis,
            }
        )
        for item in version.cost_items.all()
    ]


def service_basic(service: Service, version: StandardVersion, *, base: str) -> dict[str, Any]:
    """The one-to-one fields of a service, with its organization (service_list.json)."""
    agency, unit = service.agency, service.unit
    modified = version.published_at or service.updated_at
    document = _compact(
        {
            "id": entity_id(SERVICE, service.pk),
            "organization_id": entity_id(ORGANIZATION, agency.pk),
            "name": service.name,
            "description": service.summary
            or f"{service.name}, layanan {agency.name} ({unit.name}).",
            "url": f"{base}{service.get_absolute_url()}",
            # The agency's public address; a unit's contact emails are where breach notices
            # go, not shown to the public.
            "email": _email(agency.email),
            "status": "active" if unit.is_active else "inactive",
            "application_process": _application_process(service, version),
            "fees_description": _fees(version),
            "wait_time": _processing_time(version),
            "licenses": "; ".join(
                t for t in (version.legal_basis or []) if isinstance(t, str) and t
            ),
            "alert": None if unit.is_active else "Unit pelayanan sedang tutup.",
            "last_modified": modified.isoformat() if modified else None,
        }
    )
    document["organization"] = organization_basic(agency, base=base)
    return document


def _service_locations(
    service: Service, defaults: Defaults, service_id: str
) -> list[dict[str, Any]]:
    unit = service.unit
    found: list[tuple[str, str, dict[str, Any]]] = []
    office = unit_location(unit, defaults)
    if office is not None:
        found.append((f"unit/{unit.pk}", "", office))
    for counter in unit.counters.all():
        if counter.location.is_active:
            location = place_location(counter.location, defaults)
            found.append((f"location/{counter.location_id}", counter.label, location))
    return [
        _compact(
            {
                "id": child_id("service_at_location", service.pk, key),
                "service_id": service_id,
                "location_id": location["id"],
                "description": label,
                "location": location,
            }
        )
        for key, label, location in found
    ]


def _complaint_contacts(
    service: Service, version: StandardVersion, service_id: str
) -> tuple[list[Any], list[Any]]:
    phones, contacts = [], []
    for channel in version.complaint_channels.all():
        owner = f"complaint/{channel.pk}"
        label = _label(ComplaintChannelKind, channel.kind)
        if channel.kind in (ComplaintChannelKind.PHONE, ComplaintChannelKind.WHATSAPP):
            phones.append(
                {
                    "id": child_id("phone", owner),
                    "service_id": service_id,
                    "number": channel.value,
                    "type": "voice" if channel.kind == ComplaintChannelKind.PHONE else "text",
                    "description": f"Pengaduan ({label})",
                }
            )
        elif channel.kind == ComplaintChannelKind.EMAIL and _email(channel.value):
            contacts.append(
                {
                    "id": child_id("contact", owner),
                    "service_id": service_id,
                    "name": "Pengaduan",
                    "department": service.unit.name,
                    "email": channel.value.strip(),
                }
            )
    return phones, contacts


def service_full(
    service: Service, version: StandardVersion, *, base: str, defaults: Defaults
) -> dict[str, Any]:
    """The fully nested service (service.json)."""
    agency, unit = service.agency, service.unit
    document = service_basic(service, version, base=base)
    service_id = document["id"]
    link = {"service_id": service_id}
    owner = f"service/{service.pk}"
    complaint_phones, contacts = _complaint_contacts(service, version, service_id)
    document["phones"] = (
        _phones(unit.phone or agency.phone, owner=owner, link=link, description=unit.name)
        + complaint_phones
    )
    document["contacts"] = contacts
    calendar = _calendar_of(unit.calendar, agency.calendar)
    document["schedules"] = schedules(
        unit_week(unit, defaults),
        owner=owner,
        utc_offset_hours=_utc_offset(calendar, defaults),
        link=link,
    )
    document["service_at_locations"] = _service_locations(service, defaults, service_id)
    document["cost_options"] = _cost_options(service_id, service, version)
    document["required_documents"] = [
        {
            "id": child_id("required_document", service.pk, requirement.pk),
            "service_id": service_id,
            "document": requirement.name
            + (f" ({requirement.copies})" if requirement.copies else ""),
        }
        for requirement in version.requirements.all()
    ]
    document["languages"] = [_language(owner, link)]
    document["service_areas"] = (
        [
            {
                "id": child_id("service_area", owner, agency.region_code),
                "service_id": service_id,
                "name": agency.region_name or agency.region_code,
                "description": f"Kode wilayah Kemendagri {agency.region_code}",
            }
        ]
        if agency.region_code
        else []
    )
    document["organization"] = organization_full(agency, base=base)
    return document


# --- Pages ------------------------------------------------------------------------------------


def page(contents: list[dict[str, Any]], *, total: int, number: int, size: int) -> dict[str, Any]:
    """The HSDS API's Page: counts and flags around a page of contents."""
    total_pages = max(1, -(-total // size))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def index(*, base: str) -> dict[str, Any]:
    """`/`: what this API is and how it relates to HSDS."""
    return {
        "version": HSDS_VERSION,
        "profile": PROFILE_URL,
        "openapi_url": OPENAPI_URL,
        "description": (
            "Standar pelayanan publik instansi pemerintah Indonesia yang terdaftar di Maklumat, "
            "dalam format Open Referral HSDS 3.0."
        ),
        "publisher": {"name": "Maklumat", "website": f"{base}/"},
    }
