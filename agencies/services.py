"""Writes for agencies, units and memberships."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from agencies.models import Agency, Membership, Role, Unit
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
    agency.full_clean()
    agency.save()
    return agency


@transaction.atomic
def unit_create(*, agency: Agency, name: str, acting_user: Any = None, **fields: Any) -> Unit:
    if acting_user is not None and not can(acting_user, Action.MANAGE_AGENCY, agency):
        raise PermissionDeniedError()
    parent = fields.get("parent")
    if parent is not None and parent.agency_id != agency.pk:
        raise ApplicationError("The parent unit belongs to another agency.", field="parent")
    slug = fields.pop("slug", None) or _unique_slug(Unit, name, agency=agency)
    unit = Unit(agency=agency, name=name, slug=slug, **fields)
    mark_history(unit, acting_user)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, acting_user: Any, **fields: Any) -> Unit:
    if not can(acting_user, Action.MANAGE_AGENCY, unit):
        raise PermissionDeniedError()
    for name, value in fields.items():
        setattr(unit, name, value)
    mark_history(unit, acting_user)
    unit.full_clean()
    unit.save()
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
    if role == Role.OMBUDSMAN:
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
