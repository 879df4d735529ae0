"""The one permission policy: who may see and do what, in which agency.

Every view, API endpoint, admin page, export and task asks this module; none
decides on its own. Two questions:

- `can(user, action, obj)`: may this user do this to this object?
- `scope(user, queryset, action)`: which rows of this queryset may they act on?

Objects tell the policy where they belong through `agency_id` and, when they
have one, `unit_id` (directly or through `policy_owner()`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from agencies.models import NATIONAL_ROLES, Membership, Role


class Action(enum.StrEnum):
    VIEW_PRIVATE = "view_private"  # drafts, internal figures, breach details
    EDIT_STANDARD = "edit_standard"  # draft and change standards and charters
    PUBLISH_STANDARD = "publish_standard"  # approve and publish standards and charters
    MANAGE_AGENCY = "manage_agency"  # members, invitations, units, agency profile
    RECORD_DELIVERY = "record_delivery"  # record and update service deliveries
    ANSWER_BREACH = "answer_breach"  # acknowledge, explain, remedy breaches
    DECIDE_BREACH = "decide_breach"  # ombudsman decisions and compliance scores
    CURATE_LIFE_EVENTS = "curate_life_events"  # create, edit, publish life events (all agencies)


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.EDITOR: frozenset(
        {Action.VIEW_PRIVATE, Action.EDIT_STANDARD, Action.RECORD_DELIVERY, Action.ANSWER_BREACH}
    ),
    Role.APPROVER: frozenset(
        {
            Action.VIEW_PRIVATE,
            Action.EDIT_STANDARD,
            Action.PUBLISH_STANDARD,
            Action.RECORD_DELIVERY,
            Action.ANSWER_BREACH,
        }
    ),
    Role.AGENCY_ADMIN: frozenset({Action.VIEW_PRIVATE, Action.MANAGE_AGENCY, Action.ANSWER_BREACH}),
    # Ombudsman reviewers read every agency and decide breaches; they never edit
    # an agency's standards.
    Role.OMBUDSMAN: frozenset({Action.VIEW_PRIVATE, Action.DECIDE_BREACH}),
    # National curators shape journeys across agencies; they see no agency's private data.
    Role.CURATOR: frozenset({Action.CURATE_LIFE_EVENTS}),
}


class _User(Protocol):
    pk: Any
    is_authenticated: bool
    is_superuser: bool
    is_active: bool


@dataclass(frozen=True)
class Grant:
    """Where a user may perform an action: everywhere, or in these agencies/units."""

    everywhere: bool
    agency_ids: frozenset[int]
    unit_ids: frozenset[int]  # unit-limited memberships: (agency, unit) pairs flattened

    @property
    def nothing(self) -> bool:
        return not self.everywhere and not self.agency_ids and not self.unit_ids


NO_GRANT = Grant(False, frozenset(), frozenset())
ALL_GRANT = Grant(True, frozenset(), frozenset())


def _memberships(user: Any) -> list[tuple[str, int | None, int | None]]:
    cache = getattr(user, "_policy_memberships", None)
    if cache is None:
        cache = list(
            Membership.objects.filter(user=user).values_list("role", "agency_id", "unit_id")
        )
        user._policy_memberships = cache
    return cache


def grant_for(user: Any, action: Action) -> Grant:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_GRANT
    machine_grant = getattr(user, "policy_grant", None)
    if machine_grant is not None:
        # A machine actor (an agency API key) carries its own, narrower grant.
        return machine_grant(action)
    if user.is_superuser:
        return ALL_GRANT
    agency_ids: set[int] = set()
    unit_ids: set[int] = set()
    for role, agency_id, unit_id in _memberships(user):
        if action not in ROLE_ACTIONS.get(role, frozenset()):
            continue
        if role in NATIONAL_ROLES:
            return ALL_GRANT
        if unit_id is not None:
            unit_ids.add(unit_id)
        elif agency_id is not None:
            agency_ids.add(agency_id)
    return Grant(False, frozenset(agency_ids), frozenset(unit_ids))


def owner_of(obj: Any) -> tuple[int | None, int | None]:
    """(agency_id, unit_id) of an object, as far as the policy is concerned."""
    if hasattr(obj, "policy_owner"):
        return obj.policy_owner()
    from agencies.models import Agency, Unit

    if isinstance(obj, Agency):
        return obj.pk, None
    if isinstance(obj, Unit):
        return obj.agency_id, obj.pk
    return getattr(obj, "agency_id", None), getattr(obj, "unit_id", None)


def can(user: Any, action: Action, obj: Any) -> bool:
    grant = grant_for(user, action)
    if grant.everywhere:
        return True
    if grant.nothing:
        return False
    agency_id, unit_id = owner_of(obj)
    if agency_id in grant.agency_ids:
        return True
    return unit_id is not None and unit_id in grant.unit_ids


def can_in_agency(user: Any, action: Action, agency_id: int) -> bool:
    """May the user perform `action` somewhere in this agency (e.g. create a service)?"""
    grant = grant_for(user, action)
    if grant.everywhere or agency_id in grant.agency_ids:
        return True
    if not grant.unit_ids:
        return False
    from agencies.models import Unit

    return Unit.objects.filter(pk__in=grant.unit_ids, agency_id=agency_id).exists()


def has_any(user: Any, action: Action) -> bool:
    return not grant_for(user, action).nothing


M = TypeVar("M", bound=Model)


def scope(
    user: Any,
    queryset: QuerySet[M],
    action: Action,
    *,
    agency_field: str = "agency",
    unit_field: str | None = "unit",
) -> QuerySet[M]:
    """Restrict a queryset to the rows the user may perform `action` on."""
    grant = grant_for(user, action)
    if grant.everywhere:
        return queryset
    if grant.nothing:
        return queryset.none()
    condition = Q(**{f"{agency_field}__in": grant.agency_ids})
    if grant.unit_ids and unit_field:
        condition |= Q(**{f"{unit_field}__in": grant.unit_ids})
    return queryset.filter(condition)


def agencies_for(user: Any, action: Action) -> QuerySet[Any]:
    from agencies.models import Agency, Unit

    grant = grant_for(user, action)
    if grant.everywhere:
        return Agency.objects.all()
    unit_agencies = Unit.objects.filter(pk__in=grant.unit_ids).values("agency_id")
    return Agency.objects.filter(Q(pk__in=grant.agency_ids) | Q(pk__in=unit_agencies))


# --- The one 404-or-403 rule for pages ------------------------------------------------------
def refuse(user: Any, obj: Any, *, seen_with: Action = Action.VIEW_PRIVATE) -> NoReturn:
    """Refuse an action on `obj`: 403 for those who may see it (its agency's staff learn it
    exists), 404 for everyone else (an outsider learns nothing)."""
    agency_id, unit_id = owner_of(obj)
    if can(user, seen_with, obj) or (
        unit_id is None and agency_id is not None and can_in_agency(user, seen_with, agency_id)
    ):
        raise PermissionDenied
    raise Http404


def permitted(user: Any, action: Action, obj: M, *, seen_with: Action = Action.VIEW_PRIVATE) -> M:
    """`obj` if the user may perform `action` on it; otherwise 403 or 404 (see `refuse`)."""
    if not can(user, action, obj):
        refuse(user, obj, seen_with=seen_with)
    return obj


def get_permitted(
    user: Any,
    action: Action,
    queryset: QuerySet[M] | type[M],
    *,
    seen_with: Action = Action.VIEW_PRIVATE,
    **lookup: Any,
) -> M:
    """Get this object for this user and action, or 404/403: the one helper for pages."""
    return permitted(user, action, get_object_or_404(queryset, **lookup), seen_with=seen_with)


# --- Who must confirm a second factor ---------------------------------------------------------
# These roles can change who sees and decides what: a stolen password alone must not be enough.
PRIVILEGED_ROLES: frozenset[str] = frozenset({Role.OMBUDSMAN, Role.AGENCY_ADMIN, Role.CURATOR})


def holds_privileged_role(user: Any) -> bool:
    """The two-factor rule agencies registers with accounts.otp (see AgenciesConfig.ready)."""
    return Membership.objects.filter(user=user, role__in=PRIVILEGED_ROLES).exists()
