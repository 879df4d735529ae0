"""Writes for agencies, units and memberships."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from agencies.facilities import facilities_clean
from agencies.models import NATIONAL_ROLES, Agency, Membership, Unit
from agencies.policy import Action, can
from core.audit import mark_history
from core.errors import ApplicationError, PermissionDeniedError


def _unique_slug(model: Any, base: str, **scope: Any) -> str:
    slug = slugify(base)[:70] or "x"
    candidate, n = slug, 2
    while model.objects.filter(slug=candidate, **scope).exists():
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


@transaction.atomic
def agency_create(*, name: str, level: str, acting_user: Any = None, **fields: Any) -> Agency:
    """Create an agency. Only superusers create agencies outside the seed."""
    if acting_user is not None and not acting_user.is_superuser:
        raise PermissionDeniedError()
    slug = fields.pop("slug", None) or _unique_slug(Agency, fields.get("short_name") or name)
    agency = Agency(name=name, level=level, slug=slug, **fields)
    mark_history(agency, acting_user)
    agency.save()
    return agency


@transaction.atomic
def unit_create(*, agency: Agency, name: str, acting_user: Any = None, **fields: Any) -> Unit:
    if acting_user is not None and not can(acting_user, Action.MANAGE_AGENCY, agency):
        raise PermissionDeniedError()
    _check_parent(unit=None, agency=agency, parent=fields.get("parent"))
    if "weekly_hours" in fields:
        fields["weekly_hours"] = weekly_hours_clean(fields["weekly_hours"])
    if "facilities" in fields:
        fields["facilities"] = facilities_clean(fields["facilities"])
    slug = fields.pop("slug", None) or _unique_slug(Unit, name, agency=agency)
    unit = Unit(agency=agency, name=name, slug=slug, **fields)
    mark_history(unit, acting_user)
    unit.full_clean()
    unit.save()
    return unit


# Spelled out, not imported: services sits above agencies in the floor plan.
LIVE_VERSION_STATUSES = ("draft", "consultation", "awaiting_approval", "published")
UNIT_FIELDS = frozenset(
    {
        "name",
        "parent",
        "address",
        "phone",
        "head_name",
        "head_title",
        "head_email",
        "contact_emails",
        "weekly_hours",
        "calendar",
        "opens_at",
        "closes_at",
        "facilities",
        "facilities_note",
    }
)


def _check_parent(*, unit: Unit | None, agency: Agency, parent: Unit | None) -> None:
    """A unit sits under an open unit of its own agency, never under itself or its own
    descendants (the tree has no cycles)."""
    if parent is None:
        return
    if parent.agency_id != agency.pk:
        raise ApplicationError(_("The parent unit belongs to another agency."), field="parent")
    if not parent.is_active:
        raise ApplicationError(_("The parent unit is closed."), field="parent")
    if unit is None or unit.pk is None:
        return
    parents = dict(Unit.objects.filter(agency=agency).values_list("pk", "parent_id"))
    seen: set[int] = set()
    current: int | None = parent.pk
    while current is not None and current not in seen:
        if current == unit.pk:
            raise ApplicationError(
                _("A unit cannot be moved under itself or under one of its own sub-units."),
                field="parent",
            )
        seen.add(current)
        current = parents.get(current)


def weekly_hours_clean(value: Any) -> dict[str, list[str]]:
    """Per-weekday service hours in their one stored shape: {"0".."6": ["HH:MM", "HH:MM"]},
    each day opening before it closes."""
    if not isinstance(value, dict):
        raise ApplicationError(
            _("Service hours are not in the expected form."), field="weekly_hours"
        )
    cleaned: dict[str, list[str]] = {}
    for day, pair in value.items():
        try:
            weekday = int(day)
            opens, closes = (dt.time.fromisoformat(str(t)) for t in pair)
        except (TypeError, ValueError) as exc:
            raise ApplicationError(
                _("Service hours are not in the expected form."), field="weekly_hours"
            ) from exc
        if not 0 <= weekday <= 6:
            raise ApplicationError(
                _("Service hours are not in the expected form."), field="weekly_hours"
            )
        if closes <= opens:
            raise ApplicationError(
                _("On %(day)s the unit must open before it closes.") % {"day": WEEKDAYS[weekday]},
                field="weekly_hours",
                extra={"weekday": weekday},
            )
        cleaned[str(weekday)] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    return dict(sorted(cleaned.items()))


@transaction.atomic
def unit_update(*, unit: Unit, acting_user: Any, **fields: Any) -> Unit:
    """Rename, move, or change a unit's head, hours, calendar or facilities for vulnerable
    groups (its agency's admins only); the change is in the unit's history, with who made it."""
    if not can(acting_user, Action.MANAGE_AGENCY, unit):
        raise PermissionDeniedError()
    unknown = set(fields) - UNIT_FIELDS
    if unknown:
        raise ApplicationError(f"Not unit fields: {sorted(unknown)}.")
    if not unit.is_active:
        raise ApplicationError(_("This unit is closed: it can no longer be changed."))
    if "parent" in fields:
        _check_parent(unit=unit, agency=unit.agency, parent=fields["parent"])
    if "weekly_hours" in fields:
        fields["weekly_hours"] = weekly_hours_clean(fields["weekly_hours"])
    if "facilities" in fields:
        fields["facilities"] = facilities_clean(fields["facilities"])
    for name, value in fields.items():
        setattr(unit, name, value)
    mark_history(unit, acting_user)
    unit.full_clean()
    unit.save()
    return unit


def unit_open_services(unit: Unit) -> int:
    """How many of the unit's services still stand: one with no version yet, or with a
    version that is neither superseded nor withdrawn."""
    live = Q(versions__isnull=True) | Q(versions__status__in=LIVE_VERSION_STATUSES)
    return unit.services.filter(live).distinct().count()


@transaction.atomic
def unit_close(*, unit: Unit, closed_on: dt.date, acting_user: Any) -> Unit:
    """Close a unit from a date. Refused while anything still hangs on it (open services,
    open sub-units): those move or close first, so nothing is orphaned."""
    if not can(acting_user, Action.MANAGE_AGENCY, unit):
        raise PermissionDeniedError()
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if not unit.is_active:
        raise ApplicationError(_("This unit is already closed."), code="already_closed")
    if closed_on > timezone.localdate():
        raise ApplicationError(_("The closing date cannot be in the future."), field="closed_on")
    services = unit_open_services(unit)
    if services:
        raise ApplicationError(
            ngettext(
                "The unit still has %(count)d open service: move it to another unit or "
                "withdraw it first.",
                "The unit still has %(count)d open services: move them to another unit or "
                "withdraw them first.",
                services,
            )
            % {"count": services},
            code="unit_has_services",
        )
    children = unit.children.filter(is_active=True).count()
    if children:
        raise ApplicationError(
            ngettext(
                "The unit still has %(count)d open sub-unit: move or close it first.",
                "The unit still has %(count)d open sub-units: move or close them first.",
                children,
            )
            % {"count": children},
            code="unit_has_children",
        )
    unit.is_active = False
    unit.closed_on = closed_on
    mark_history(unit, acting_user)
    unit.save(update_fields=["is_active", "closed_on", "updated_at"])
    return unit


@transaction.atomic
def membership_grant(
    *,
    user: Any,
    role: str,
    agency: Agency | None = None,
    unit: Unit | None = None,
    acting_user: Any = None,
) -> Membership:
    if role in NATIONAL_ROLES:
        if acting_user is not None and not acting_user.is_superuser:
            raise PermissionDeniedError()
        agency, unit = None, None
    else:
        if agency is None:
            raise ApplicationError("An agency role needs an agency.", field="agency")
        if unit is not None and unit.agency_id != agency.pk:
            raise ApplicationError("The unit belongs to another agency.", field="unit")
        if acting_user is not None and not can(acting_user, Action.MANAGE_AGENCY, agency):
            raise PermissionDeniedError()
    membership, _ = Membership.objects.get_or_create(
        user=user, agency=agency, role=role, defaults={"unit": unit}
    )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, acting_user: Any) -> None:
    if membership.agency is None:
        if not acting_user.is_superuser:
            raise PermissionDeniedError()
    elif not can(acting_user, Action.MANAGE_AGENCY, membership.agency):
        raise PermissionDeniedError()
    membership.delete()


# --- The agency's profile ---------------------------------------------------------------------
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000  # a bigger picture is refused before it is decoded
LOGO_MAX_SIDE = 512  # stored logos are scaled down to fit this square
LOGO_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
PROFILE_FIELDS = (
    "name",
    "short_name",
    "address",
    "phone",
    "email",
    "website",
    "open_data_licence",
)


def logo_reencode(*, upload: Any) -> ContentFile[bytes]:
    """The uploaded logo, re-encoded as PNG: its type is read from its content (Pillow), never
    from its name or declared type, and re-encoding drops whatever else the file carried
    (metadata, trailing payloads)."""
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ApplicationError(
            _("The logo is too large: at most %(size)s.") % {"size": "1 MB"}, field="logo"
        )
    not_an_image = ApplicationError(
        _("The logo must be a PNG, JPEG, GIF or WebP image."), field="logo"
    )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in LOGO_FORMATS:
                raise not_an_image
            width, height = probe.size
            if width * height > LOGO_MAX_PIXELS:
                raise ApplicationError(_("The logo's picture is too large."), field="logo")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            picture = image.convert("RGBA")
            picture.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            buffer = io.BytesIO()
            picture.save(buffer, format="PNG", optimize=True)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise not_an_image from exc
    return ContentFile(buffer.getvalue())


@transaction.atomic
def agency_profile_update(
    *,
    agency: Agency,
    acting_user: Any,
    logo: Any = None,
    remove_logo: bool = False,
    **fields: Any,
) -> Agency:
    """Change an agency's public profile (its admins only); every change is in its history."""
    if not can(acting_user, Action.MANAGE_AGENCY, agency):
        raise PermissionDeniedError()
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ApplicationError(f"Not profile fields: {sorted(unknown)}.")
    for name, value in fields.items():
        setattr(agency, name, value)
    agency.full_clean(exclude=["logo"])  # before a logo file is written
    if logo is not None:
        content = logo_reencode(upload=logo)
        agency.logo.save(f"{agency.slug}-{uuid.uuid4().hex[:8]}.png", content, save=False)
    elif remove_logo:
        agency.logo = ""
    mark_history(agency, acting_user)
    agency.save()
    return agency
