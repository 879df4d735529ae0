"""Who hears about a fan-out row: resolved at send time (contacts may have changed), by the
rules the row's app registered (notifications.registry), less the disabled addresses."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Lower

from agencies.models import Membership, Role, Unit
from notifications import registry
from notifications.models import EmailAddressHealth, Notification
from notifications.outbox.conf import EMAIL


def contacts_of(unit: Unit) -> list[str]:
    """A unit's contact addresses (where its notices go), blanks left out."""
    return [str(e) for e in (unit.contact_emails or []) if str(e).strip()]


def unique_addresses(found: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for email in found:
        email = email.strip()
        if email and email.lower() not in seen:
            seen[email.lower()] = email
    return list(seen.values())


def _tiers(row: Notification) -> list[list[str]]:
    """The registered recipients of the row, tier by tier, each without blanks or
    duplicates; empty tiers left out."""
    found = registry.message_type(row.event)
    if found is None or found.recipients is None:
        return []
    tiers = [unique_addresses(tier) for tier in found.recipients(row)]
    return [tier for tier in tiers if tier]


def recipients_for(row: Notification) -> list[str]:
    """Who hears about this fan-out row, resolved now: the first tier that lists anyone."""
    tiers = _tiers(row)
    return tiers[0] if tiers else []


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

    Disabled addresses are skipped everywhere: they are refused anyway, and skipping them
    is what stops the notices piling up. Where the rule gives a next tier (e.g. the unit's
    contacts after its head, for an escalation nobody may opt out of), it stands in when
    every address of the first is disabled. Otherwise nothing replaces them: a row left
    with nobody fails with "No recipient" (the in-app inbox still has it, and the agency
    admins were told when the address was disabled).
    """
    tiers = _tiers(row)
    if not tiers:
        return [], 0
    found = tiers[0]
    if row.channel != EMAIL:
        return found, 0
    disabled = disabled_among(found)
    kept = [e for e in found if e.lower() not in disabled]
    for standing_in in tiers[1:]:
        if kept:
            break
        disabled |= disabled_among(standing_in)
        kept = [e for e in standing_in if e.lower() not in disabled]
    return kept, sum(1 for e in found if e.lower() in disabled)


def inapp_users_for(row: Notification) -> list[Any]:
    """Staff accounts whose in-app inbox gets this fan-out row, resolved now (the rule
    its app registered; none without one)."""
    found = registry.message_type(row.event)
    if found is None or found.inapp_users is None:
        return []
    return found.inapp_users(row)


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
