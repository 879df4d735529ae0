"""Refused email addresses: counted, disabled after repeated refusals, admins told once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from agencies.models import Membership, Role, Unit
from notifications.keys import idempotency_key
from notifications.models import EmailAddressHealth, Notification
from notifications.outbox.conf import EMAIL, conf
from notifications.outbox.insert import insert_notifications
from notifications.outbox.recipients import contacts_of, disabled_among, users_by_email


def units_listing_address(email: str) -> list[Unit]:
    """The units (of any agency, active or not) that list the address as a contact or as
    their head, case-insensitively. The JSON list is narrowed by a text search, then
    checked element by element."""
    wanted = email.strip().lower()
    if not wanted:
        return []
    candidates = Unit.objects.filter(
        Q(head_email__iexact=wanted) | Q(contact_emails__icontains=wanted)
    ).select_related("agency")
    return [
        unit
        for unit in candidates.order_by("agency_id", "pk")
        if (unit.head_email or "").strip().lower() == wanted
        or any(e.strip().lower() == wanted for e in contacts_of(unit))
    ]


def health_reset(email: str) -> None:
    """A message was accepted for the address: its count of refusals starts over (the
    ORM twin of RECORD_SENT_EMAIL_SQL; a disabled address stays as it is)."""
    EmailAddressHealth.objects.annotate(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower(),
        consecutive_permanent_failures__gt=0,
        disabled_at__isnull=True,
    ).update(consecutive_permanent_failures=0, updated_at=timezone.now())


def email_health_record_refusal(
    *, email: str, error: str, now: dt.datetime
) -> EmailAddressHealth | None:
    """Count one more permanent refusal of the address; at NOTIFICATIONS["EMAIL_DISABLE_AFTER"]
    in a row disable it and write ONE notice to the admins of every agency whose units
    list it, in the same transaction (the caller's). Returns the address's row if this
    refusal disabled it. A disabled address is not counted further."""
    email = email.strip()
    if not email:
        return None
    with transaction.atomic():
        EmailAddressHealth.objects.bulk_create(
            [EmailAddressHealth(email=email)], ignore_conflicts=True
        )
        health = (
            EmailAddressHealth.objects.select_for_update()
            .annotate(email_lower=Lower("email"))
            .get(email_lower=email.lower())
        )
        if health.disabled_at is not None:
            return None
        health.consecutive_permanent_failures += 1
        health.last_error = error
        fields = ["consecutive_permanent_failures", "last_error", "updated_at"]
        disabled = health.consecutive_permanent_failures >= conf("EMAIL_DISABLE_AFTER")
        if disabled:
            health.disabled_at = now
            fields.append("disabled_at")
        health.save(update_fields=fields)
        if disabled:
            _email_disabled_notices(health, now=now)
    return health if disabled else None


def _email_disabled_notices(health: EmailAddressHealth, *, now: dt.datetime) -> None:
    """One "email_disabled" email to each admin of each agency whose units list the
    address (an admin of several: once), keyed per address and disable moment. Each row
    carries a unit of the admin's agency that lists it (for the page link and policy)."""
    unit_by_agency: dict[int, Unit] = {}
    for unit in units_listing_address(health.email):
        unit_by_agency.setdefault(unit.agency_id, unit)
    if not unit_by_agency:
        return
    admins = (
        Membership.objects.filter(
            agency_id__in=list(unit_by_agency),
            role=Role.AGENCY_ADMIN,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("agency_id", "pk")
        .values_list("user__email", "agency_id")
    )
    recipients: dict[str, tuple[str, int]] = {}
    for email, agency_id in admins:
        recipients.setdefault(email.strip().lower(), (email.strip(), agency_id))
    disabled = disabled_among(list(recipients))  # the address itself, now, among them
    recipients = {k: v for k, v in recipients.items() if k not in disabled}
    users = users_by_email([email for email, _agency in recipients.values()])
    stamp = f"address{health.pk}-{int(now.timestamp() * 1_000_000)}"
    insert_notifications(
        [
            Notification(
                event="email_disabled",
                subject=health,
                channel=EMAIL,
                recipient=email,
                unit=unit_by_agency[agency_id],
                user=users.get(email.lower()),
                idempotency_key=idempotency_key(
                    event="email_disabled",
                    subject=stamp,
                    recipient=email,
                    channel=EMAIL,
                    level=0,
                ),
            )
            for email, agency_id in recipients.values()
        ]
    )
