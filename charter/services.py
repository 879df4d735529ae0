"""Writes for citizen charters (maklumat pelayanan)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Unit
from agencies.policy import Action, can
from charter.models import Charter, CharterStatus
from core.audit import mark_history, person
from core.errors import ApplicationError, PermissionDeniedError
from services.models import Service

CHARTER_FIELDS = (
    "pledge",
    "signatory_name",
    "signatory_title",
    "signed_on",
    "compensation_per_day",
    "compensation_cap",
    "decree_number",
    "sanction_statement",
)


def _check_services(unit: Unit, services: Iterable[Service]) -> list[Service]:
    services = list(services)
    if any(s.agency_id != unit.agency_id for s in services):
        raise ApplicationError(
            _("A charter can only cover its own agency's services."), field="services"
        )
    return services


@transaction.atomic
def charter_draft_create(
    *, unit: Unit, services: Iterable[Service], acting_user: Any = None, **fields: Any
) -> Charter:
    if acting_user is not None and not can(acting_user, Action.EDIT_STANDARD, unit):
        raise PermissionDeniedError()
    services = _check_services(unit, services)
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    number = (unit.charters.aggregate(n=Max("number"))["n"] or 0) + 1
    charter = Charter(
        unit=unit,
        number=number,
        created_by=person(acting_user),
        **{k: v for k, v in fields.items() if k in CHARTER_FIELDS},
    )
    mark_history(charter, acting_user)
    charter.full_clean(exclude=["created_by"])
    charter.save()
    charter.services.set(services)
    return charter


@transaction.atomic
def charter_draft_update(
    *, charter: Charter, acting_user: Any, services: Iterable[Service] | None = None, **fields: Any
) -> Charter:
    if not can(acting_user, Action.EDIT_STANDARD, charter.unit):
        raise PermissionDeniedError()
    charter = Charter.objects.select_for_update().get(pk=charter.pk)
    if charter.status != CharterStatus.DRAFT:
        raise ApplicationError(
            _("A published charter cannot be changed; create a new version."), code="immutable"
        )
    for key, value in fields.items():
        if key in CHARTER_FIELDS:
            setattr(charter, key, value)
    mark_history(charter, acting_user)
    charter.full_clean(exclude=["created_by"])
    charter.save()
    if services is not None:
        charter.services.set(_check_services(charter.unit, services))
    return charter


@transaction.atomic
def charter_publish(*, charter: Charter, acting_user: Any = None) -> Charter:
    if acting_user is not None and not can(acting_user, Action.PUBLISH_STANDARD, charter.unit):
        raise PermissionDeniedError()
    Unit.objects.select_for_update().filter(pk=charter.unit_id).first()
    locked = Charter.objects.select_for_update().get(pk=charter.pk)
    if locked.status != CharterStatus.DRAFT:
        raise ApplicationError(
            _("Only a draft charter can be published."), code="invalid_transition"
        )
    now = timezone.now()
    # Saved one by one (not a queryset update) so that the history records who superseded it.
    for previous in Charter.objects.select_for_update().filter(
        unit_id=locked.unit_id, status=CharterStatus.PUBLISHED
    ):
        previous.status = CharterStatus.SUPERSEDED
        previous.superseded_at = now
        mark_history(previous, acting_user)
        previous.save()
    locked.status = CharterStatus.PUBLISHED
    locked.published_at = now
    mark_history(locked, acting_user)
    locked.save()
    return locked


@transaction.atomic
def charter_new_version(*, charter: Charter, acting_user: Any) -> Charter:
    """A new draft that starts as a copy of `charter` (a published or earlier version)."""
    if not can(acting_user, Action.EDIT_STANDARD, charter.unit):
        raise PermissionDeniedError()
    if charter.status == CharterStatus.DRAFT:
        raise ApplicationError(
            _("This charter is still a draft; edit it instead."), code="invalid_transition"
        )
    Unit.objects.select_for_update().filter(pk=charter.unit_id).first()
    existing = charter.unit.charters.filter(status=CharterStatus.DRAFT).first()
    if existing is not None:
        raise ApplicationError(
            _("This unit already has a draft charter."),
            code="draft_exists",
            extra={"charter_id": existing.pk},
        )
    return charter_draft_create(
        unit=charter.unit,
        services=charter.services.all(),
        acting_user=acting_user,
        **{k: getattr(charter, k) for k in CHARTER_FIELDS},
    )


@transaction.atomic
def charter_withdraw(*, charter: Charter, reason: str, acting_user: Any = None) -> Charter:
    """Take a published charter down: the unit then has no charter in force."""
    if acting_user is not None and not can(acting_user, Action.PUBLISH_STANDARD, charter.unit):
        raise PermissionDeniedError()
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for the withdrawal."), field="reason")
    locked = Charter.objects.select_for_update().get(pk=charter.pk)
    if locked.status != CharterStatus.PUBLISHED:
        raise ApplicationError(
            _("Only the published charter can be withdrawn."), code="invalid_transition"
        )
    locked.status = CharterStatus.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_reason = reason
    mark_history(locked, acting_user)
    locked.save()
    return locked
