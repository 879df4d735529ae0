"""Writes behind the notification settings pages: a person's own preference, and an
agency's webhook endpoints, per-unit daily digests and disabled email addresses (agency
admins: MANAGE_AGENCY)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from agencies.models import Agency, Unit
from agencies.policy import Action, can
from core.errors import ApplicationError, PermissionDeniedError
from notifications import registry
from notifications.models import (
    EmailAddressHealth,
    RecipientMode,
    RecipientPreference,
    UnitNotificationPreference,
    WebhookEndpoint,
)
from notifications.outbox import units_listing_address
from notifications.webhook_targets import WebhookTargetRefused, webhook_target

_validate_url = URLValidator(schemes=["http", "https"])


def _require_user(acting_user: Any) -> None:
    if (
        acting_user is None
        or not getattr(acting_user, "is_authenticated", False)
        or not acting_user.is_active
    ):
        raise PermissionDeniedError()


# --- A person's own preference --------------------------------------------------------------


def recipient_preference_get(*, user: Any) -> RecipientPreference | None:
    """The preference of the user's own email address, if they saved one."""
    email = (getattr(user, "email", "") or "").strip()
    if not email:
        return None
    return RecipientPreference.objects.filter(email__iexact=email).first()


def recipient_preference_set(
    *, acting_user: Any, mode: str, kinds: Iterable[str]
) -> RecipientPreference:
    """Save how the acting user's own email address hears about new breaches.

    `kinds` lists the kinds wanted (values of `registry.kind_choices()`: the kinds of
    breach); all of them is stored as [] ("all kinds", so a kind added later is included
    too).
    """
    _require_user(acting_user)
    email = (acting_user.email or "").strip()
    if not email:
        raise ApplicationError(_("Your account has no email address."), code="no_email")
    if mode not in RecipientMode.values:
        raise ApplicationError(_("Choose how to receive new breaches."), field="mode")
    chosen = set(kinds)
    if not chosen:
        raise ApplicationError(_("Choose at least one kind of breach."), field="kinds")
    known = registry.kind_values()
    if not chosen <= set(known):
        raise ApplicationError(_("Unknown kind of breach."), field="kinds")
    stored = [] if chosen == set(known) else [k for k in known if k in chosen]
    preference, _created = RecipientPreference.objects.update_or_create(
        email__iexact=email,
        defaults={"mode": mode, "kinds": stored, "user": acting_user},
        create_defaults={"email": email, "mode": mode, "kinds": stored, "user": acting_user},
    )
    return preference


# --- An agency's webhook endpoints ----------------------------------------------------------


def _check_manage(acting_user: Any, obj: Any) -> None:
    if not can(acting_user, Action.MANAGE_AGENCY, obj):
        raise PermissionDeniedError()


def _clean_url(*, agency_id: int, url: str, exclude_pk: int | None = None) -> str:
    url = url.strip()
    try:
        _validate_url(url)
    except ValidationError as exc:
        raise ApplicationError(_("Enter a valid URL."), field="url") from exc
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:  # type: ignore[operator]
        raise ApplicationError(_("This URL is too long."), field="url")
    try:
        # The same rule is checked again at every send (notifications.channels).
        webhook_target(url, unresolved_ok=True)
    except WebhookTargetRefused as exc:
        raise ApplicationError(exc.message, code="webhook_target", field="url") from exc
    same = WebhookEndpoint.objects.filter(agency_id=agency_id, url=url)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ApplicationError(
            _("This agency already has an endpoint with this URL."), code="duplicate", field="url"
        )
    return url


def _clean_units(*, agency_id: int, unit_ids: Iterable[int]) -> list[Unit]:
    """The units an endpoint is limited to: all of them the agency's own."""
    wanted = set(unit_ids)
    units = list(Unit.objects.filter(agency_id=agency_id, pk__in=wanted))
    if len(units) != len(wanted):
        raise ApplicationError(_("Choose units of this agency."), field="units")
    return units


def webhook_endpoint_create(
    *, agency: Agency, url: str, acting_user: Any, unit_ids: Iterable[int] = ()
) -> WebhookEndpoint:
    """Add an endpoint with a fresh signing secret (generated here, returned once on the
    endpoint: the pages never show it again). `unit_ids` limits it to those units'
    breaches (none: every unit of the agency)."""
    _check_manage(acting_user, agency)
    url = _clean_url(agency_id=agency.pk, url=url)
    units = _clean_units(agency_id=agency.pk, unit_ids=unit_ids)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            agency=agency, url=url, secret=secrets.token_urlsafe(32), is_active=True
        )
        endpoint.units.set(units)
    return endpoint


def _reset_failures(endpoint: WebhookEndpoint) -> list[str]:
    endpoint.is_active = True
    endpoint.consecutive_permanent_failures = 0
    endpoint.disabled_at = None
    return ["is_active", "consecutive_permanent_failures", "disabled_at"]


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    is_active: bool,
    acting_user: Any,
    unit_ids: Iterable[int] | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL or units, or switch it off or on (switching on restarts
    the count of consecutive failures). `unit_ids` None leaves the units as they are."""
    _check_manage(acting_user, endpoint)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.url = _clean_url(agency_id=endpoint.agency_id, url=url, exclude_pk=endpoint.pk)
        if unit_ids is not None:
            endpoint.units.set(_clean_units(agency_id=endpoint.agency_id, unit_ids=unit_ids))
        fields = ["url"]
        if is_active and not endpoint.is_active:
            fields += _reset_failures(endpoint)
        elif not is_active and endpoint.is_active:
            endpoint.is_active = False
            fields.append("is_active")
        endpoint.save(update_fields=fields)
    return endpoint


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, acting_user: Any) -> WebhookEndpoint:
    """Switch a disabled endpoint on again, with its failure count back at zero."""
    _check_manage(acting_user, endpoint)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not endpoint.is_active:
            endpoint.save(update_fields=_reset_failures(endpoint))
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, acting_user: Any) -> None:
    """Delete an endpoint. Rows still queued for it fail permanently ("gone") when drained;
    the history of rows already sent keeps its attempts (the link is set to NULL)."""
    _check_manage(acting_user, endpoint)
    endpoint.delete()


# --- Per-unit daily digests ----------------------------------------------------------------


def unit_digests_set(*, agency: Agency, digest_unit_ids: Iterable[int], acting_user: Any) -> int:
    """Set the daily-digest choice of every active unit of the agency at once: units in
    `digest_unit_ids` get the digest, the others one email per breach. Returns the number
    of units whose preference was written."""
    _check_manage(acting_user, agency)
    wanted = set(digest_unit_ids)
    units = list(Unit.objects.filter(agency=agency, is_active=True).values_list("pk", flat=True))
    if not wanted <= set(units):
        raise ApplicationError(_("Unknown unit."), field="units")
    UnitNotificationPreference.objects.bulk_create(
        [UnitNotificationPreference(unit_id=pk, digest=pk in wanted) for pk in units],
        update_conflicts=True,
        unique_fields=["unit"],
        update_fields=["digest"],
    )
    return len(units)


# --- Disabled email addresses --------------------------------------------------------------


@dataclass(frozen=True)
class DisabledAddress:
    health: EmailAddressHealth
    units: list[Unit]  # the agency's units that list it


def disabled_addresses_for_agency(*, agency: Agency) -> list[DisabledAddress]:
    """The disabled addresses that the agency's units (active or not) list as a contact or
    as their head, with those units; two queries."""
    units = list(Unit.objects.filter(agency=agency).order_by("name", "pk"))
    by_address: dict[str, list[Unit]] = {}
    for unit in units:
        addresses = [*(unit.contact_emails or []), unit.head_email or ""]
        for address in {str(a).strip().lower() for a in addresses} - {""}:
            by_address.setdefault(address, []).append(unit)
    if not by_address:
        return []
    found = (
        EmailAddressHealth.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=list(by_address), disabled_at__isnull=False)
        .order_by("email_lower", "pk")
    )
    return [DisabledAddress(health=h, units=by_address[h.email.lower()]) for h in found]


def email_address_enable(*, health: EmailAddressHealth, acting_user: Any) -> EmailAddressHealth:
    """Enable a disabled address again, with its count of refusals back at zero.

    Allowed to whoever may manage a unit that lists the address (an admin of its agency),
    or everywhere (superusers); an address no unit lists can only be enabled by the latter.
    """
    units = units_listing_address(health.email)
    if not (
        can(acting_user, Action.MANAGE_AGENCY, health)
        or any(can(acting_user, Action.MANAGE_AGENCY, unit) for unit in units)
    ):
        raise PermissionDeniedError()
    with transaction.atomic():
        health = EmailAddressHealth.objects.select_for_update().get(pk=health.pk)
        health.consecutive_permanent_failures = 0
        health.disabled_at = None
        health.save(update_fields=["consecutive_permanent_failures", "disabled_at", "updated_at"])
    return health
