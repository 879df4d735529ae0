"""Who hears about a fan-out row: resolved at send time (contacts may have changed)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from agencies.models import Membership, Role, Unit
from agencies.policy import ROLE_ACTIONS, Action, can
from notifications.models import EmailAddressHealth, Notification
from notifications.outbox.conf import EMAIL


def _unit_of(row: Notification) -> Unit | None:
    return row.unit if row.unit_id else (row.breach.unit if row.breach_id else None)  # type: ignore[union-attr]


def contacts_of(unit: Unit) -> list[str]:
    return [str(e) for e in (unit.contact_emails or []) if str(e).strip()]


def unique_addresses(found: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for email in found:
        email = email.strip()
        if email and email.lower() not in seen:
            seen[email.lower()] = email
    return list(seen.values())


def recipients_for(row: Notification) -> list[str]:
    """Who hears about this fan-out row, resolved now (contacts may have changed)."""
    unit = _unit_of(row)
    found: list[str] = []
    if row.level == 0 and unit is not None:
        found = contacts_of(unit)
        if not found:
            found = [e for e in (unit.head_email, unit.agency.email) if e]
    elif row.level == 1 and unit is not None:
        found = [unit.head_email] if unit.head_email else []
        if not found:  # no head on record: the unit's contacts must still hear
            found = contacts_of(unit)
    elif row.level == 2 and unit is not None:
        admins = Membership.objects.filter(
            agency_id=unit.agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
        ).exclude(user__email="")
        found = [unit.agency.head_email, *admins.values_list("user__email", flat=True)]
    elif row.level >= 3:
        found = list(
            Membership.objects.filter(role=Role.OMBUDSMAN, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    return unique_addresses(found)


def disabled_among(emails: list[str]) -> set[str]:
    """The disabled addresses among these (lowercased), in one query on lower(email)."""
    if not emails:
        return set()
    found = EmailAddressHealth.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in={e.strip().lower() for e in emails}, disabled_at__isnull=False
    )
    return {e.lower() for e in found.values_list("email", flat=True)}


def reachable_recipients_for(row: Notification) -> tuple[list[str], int]:
    """`recipients_for` without the disabled addresses; also returns how many were skipped.

    Disabled addresses are skipped at every level: they are refused anyway, and skipping
    them is what stops the notices piling up. Escalations cannot be opted out of, so at
    level 1 a disabled head of unit is replaced by the unit's (enabled) contacts, as when
    no head is on record. Otherwise nothing replaces them: a row left with nobody fails
    with "No recipient" (the in-app inbox still has it, and the agency admins were told
    when the address was disabled).
    """
    found = recipients_for(row)
    if row.channel != EMAIL or not found:
        return found, 0
    disabled = disabled_among(found)
    kept = [e for e in found if e.lower() not in disabled]
    unit = _unit_of(row)
    if not kept and row.level == 1 and unit is not None and unit.head_email:
        contacts = unique_addresses(contacts_of(unit))
        disabled |= disabled_among(contacts)
        kept = [e for e in contacts if e.lower() not in disabled]
    return kept, sum(1 for e in found if e.lower() in disabled)


ANSWERING_ROLES = [
    role for role, actions in ROLE_ACTIONS.items() if Action.ANSWER_BREACH in actions
]


def inapp_users_for(row: Notification) -> list[Any]:
    """Staff accounts whose in-app inbox gets this fan-out row, resolved now.

    Level 0: every active member who may answer the breach (Action.ANSWER_BREACH on it:
    the unit's editors and approvers, unit-wide or agency-wide, and the agency admins).
    Levels 1-2: the agency admins, and the account (if any) of the unit head (level 1) or
    agency head (level 2). Level 3: the ombudsman reviewers.
    """
    from accounts.models import User

    unit = row.unit if row.unit_id else (row.breach.unit if row.breach_id else None)  # type: ignore[union-attr]
    if unit is None:
        return []
    users = User.objects.filter(is_active=True)
    if row.level == 0:
        condition = Q(
            memberships__agency_id=unit.agency_id,
            memberships__role__in=ANSWERING_ROLES,
        ) & (Q(memberships__unit__isnull=True) | Q(memberships__unit_id=unit.pk))
    elif row.level in (1, 2):
        condition = Q(memberships__agency_id=unit.agency_id, memberships__role=Role.AGENCY_ADMIN)
        head = unit.head_email if row.level == 1 else unit.agency.head_email
        if head:
            condition |= Q(email__iexact=head.strip(), memberships__agency_id=unit.agency_id)
    else:
        condition = Q(memberships__role=Role.OMBUDSMAN)
    found = list(users.filter(condition).distinct().order_by("pk"))
    subject: Any = row.breach if row.breach_id else unit
    return [u for u in found if row.level > 0 or can(u, Action.ANSWER_BREACH, subject)]


def users_by_email(emails: list[str]) -> dict[str, Any]:
    from accounts.models import User

    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=[e.lower() for e in emails], is_active=True
    )
    return {u.email.lower(): u for u in users}


def agency_admin_emails(agency_id: int) -> list[str]:
    emails = Membership.objects.filter(
        agency_id=agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
    ).exclude(user__email="")
    seen: dict[str, str] = {}
    for email in emails.values_list("user__email", flat=True):
        seen.setdefault(email.strip().lower(), email.strip())
    return list(seen.values())
