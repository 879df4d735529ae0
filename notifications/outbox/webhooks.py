"""Webhook rows of a fan-out, and each endpoint's health (disabled after repeated refusals)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Prefetch

from agencies.models import Unit
from notifications.channels import Outcome
from notifications.keys import idempotency_key
from notifications.models import AttemptResult, Notification, WebhookEndpoint
from notifications.outbox.conf import WEBHOOK, conf
from notifications.outbox.insert import insert_notifications
from notifications.outbox.recipients import agency_admin_emails, users_by_email
from notifications.outbox.subjects import child_row, unit_id_of


def active_endpoints(agency_id: int | None) -> list[WebhookEndpoint]:
    """The agency's active endpoints, each with the ids of the units it is limited to."""
    if agency_id is None:
        return []
    return list(
        WebhookEndpoint.objects.filter(agency_id=agency_id, is_active=True).prefetch_related(
            Prefetch("units", queryset=Unit.objects.only("pk"))
        )
    )


def _endpoint_covers(endpoint: WebhookEndpoint, unit_id: int | None) -> bool:
    """An endpoint limited to some units hears only of their messages; else of all."""
    unit_ids = {unit.pk for unit in endpoint.units.all()}
    return not unit_ids or unit_id in unit_ids


def webhook_rows(
    row: Notification, *, subject: str, endpoints: list[WebhookEndpoint]
) -> list[Notification]:
    """One pending row per active webhook endpoint (of the agency of the row's unit) that
    covers the row's unit."""
    rows = []
    unit_id = unit_id_of(row)
    for endpoint in endpoints:
        if not _endpoint_covers(endpoint, unit_id):
            continue
        recipient = f"webhook:{endpoint.pk}"
        rows.append(
            child_row(
                row,
                channel=WEBHOOK,
                recipient=recipient,
                webhook_endpoint=endpoint,
                idempotency_key=idempotency_key(
                    event=row.event,
                    subject=subject,
                    recipient=recipient,
                    channel=WEBHOOK,
                    level=row.level,
                ),
            )
        )
    return rows


def webhook_record(
    *, endpoint_id: int, outcome: Outcome, now: dt.datetime
) -> WebhookEndpoint | None:
    """Count consecutive permanent failures of an endpoint; disable it at the limit and
    write a notice to the agency admins (in the same transaction). Returns the endpoint
    if this outcome disabled it."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            return None
        if outcome.result == AttemptResult.SENT:
            if endpoint.consecutive_permanent_failures:
                endpoint.consecutive_permanent_failures = 0
                endpoint.save(update_fields=["consecutive_permanent_failures"])
            return None
        if outcome.result != AttemptResult.PERMANENT or not endpoint.is_active:
            return None
        endpoint.consecutive_permanent_failures += 1
        endpoint.last_error = outcome.error
        fields = ["consecutive_permanent_failures", "last_error"]
        disabled = endpoint.consecutive_permanent_failures >= conf("WEBHOOK_DISABLE_AFTER")
        if disabled:
            endpoint.is_active = False
            endpoint.disabled_at = now
            fields += ["is_active", "disabled_at"]
        endpoint.save(update_fields=fields)
        if not disabled:
            return None
        admins = agency_admin_emails(endpoint.agency_id)
        users = users_by_email(admins)
        stamp = f"endpoint{endpoint.pk}-{int(now.timestamp())}"
        insert_notifications(
            [
                Notification(
                    event="webhook_disabled",
                    subject=endpoint,
                    channel="email",
                    recipient=email,
                    webhook_endpoint=endpoint,
                    user=users.get(email.lower()),
                    idempotency_key=idempotency_key(
                        event="webhook_disabled",
                        subject=stamp,
                        recipient=email,
                        channel="email",
                        level=0,
                    ),
                )
                for email in admins
            ]
        )
        return endpoint
