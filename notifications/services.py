"""Delivering the outbox: fan-out, claim, send, record, retry, re-queue, resend.

Guarantees and their limits
---------------------------
- **Written with the event.** The event's transaction writes a *fan-out* row (recipient
  ""); if it rolls back, nothing is sent.
- **Recipients at send time.** `expand_fanouts` resolves the fan-out row to one row per
  recipient (unit contacts, head of unit, agency head and admins, ombudsman reviewers,
  by level) with `bulk_create(ignore_conflicts=True)` on the unique idempotency key
  (event, subject, recipient, channel, level): expanding twice writes nothing new.
- **Claimed once.** `drain` claims due pending rows with `SELECT ... FOR UPDATE SKIP
  LOCKED` and flips them to `sending` in a short transaction, then sends outside any
  transaction. Two drainers never claim the same row: the second skips the locked rows,
  and once committed they are no longer pending.
- **Every attempt recorded** (`NotificationAttempt`). Transient failures (connection
  refused/dropped, timeouts, SMTP 4xx) go back to pending with exponential backoff
  (`BACKOFF_BASE_SECONDS * 2**(attempts-1)`, capped at `BACKOFF_MAX_SECONDS`) until
  `RETRY_LIMIT_SECONDS` (default 24 h) after the row was queued; then `failed`.
  Permanent failures (recipient or sender refused, SMTP 5xx) fail at once. Failed rows are
  listed for staff with a resend action (`notification_resend`).
- **The one window.** A worker that dies after the SMTP server accepted a message and
  before `sent` is committed leaves the row in `sending`. `requeue_stale` puts rows
  that stayed `sending` longer than `STALE_SENDING_SECONDS` back to pending (logging an
  "outcome unknown" attempt), so nothing is lost; at worst that one message is sent
  twice. The window is one SMTP DATA exchange plus one UPDATE, and every copy carries the
  same `Message-ID` (derived from the idempotency key) so a receiving system can drop the
  duplicate.
- **Refused addresses.** An email address the SMTP server refuses permanently (5xx to
  RCPT TO) `EMAIL_DISABLE_AFTER` times in a row is disabled (`EmailAddressHealth`): new
  fan-outs skip it and the admins of every agency whose units list it get one notice
  (see `email_health_record_refusal`). A message accepted for it resets the count, inside
  the one-statement SENT record.
- **Broker down.** Draining polls the database (beat, every minute), so a row written
  while the broker was unreachable is sent on the next drain; `requeue_stale` also kicks
  a drain when due rows have been waiting longer than `PENDING_KICK_SECONDS`.

Settings: `NOTIFICATIONS = {...}` in Django settings overrides the defaults below.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Prefetch, Q
from django.db.models.functions import Lower
from django.utils import timezone

from agencies.models import Membership, Role, Unit
from agencies.policy import ROLE_ACTIONS, Action, can
from core.errors import ApplicationError, PermissionDeniedError
from notifications.channels import CHANNELS, Outcome
from notifications.models import (
    AttemptResult,
    EmailAddressHealth,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    RecipientMode,
    RecipientPreference,
    UnitNotificationPreference,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, int] = {
    "RETRY_LIMIT_SECONDS": 24 * 3600,
    "BACKOFF_BASE_SECONDS": 60,
    "BACKOFF_MAX_SECONDS": 4 * 3600,
    "STALE_SENDING_SECONDS": 15 * 60,
    "PENDING_KICK_SECONDS": 120,
    "BATCH_SIZE": 100,
    "ACK_LINK_MAX_AGE_SECONDS": 30 * 24 * 3600,
    "WEBHOOK_DISABLE_AFTER": 5,
    "EMAIL_DISABLE_AFTER": 5,
}


def conf(name: str) -> int:
    return int(getattr(settings, "NOTIFICATIONS", {}).get(name, DEFAULTS[name]))


def idempotency_key(*, event: str, subject: str, recipient: str, channel: str, level: int) -> str:
    """(event, subject, recipient, channel, level) as a unique key of at most 200 chars."""
    key = f"{event}:{subject}:{recipient.lower()}:{channel}:{level}"
    if len(key) <= 200:
        return key
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:32]
    return f"{event}:{subject}:sha256-{digest}:{channel}:{level}"[:200]


# --- Recipients ---------------------------------------------------------------------------


def _unit_of(row: Notification) -> Unit | None:
    return row.unit if row.unit_id else (row.breach.unit if row.breach_id else None)  # type: ignore[union-attr]


def _contacts(unit: Unit) -> list[str]:
    return [str(e) for e in (unit.contact_emails or []) if str(e).strip()]


def _unique(found: list[str]) -> list[str]:
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
        found = _contacts(unit)
        if not found:
            found = [e for e in (unit.head_email, unit.agency.email) if e]
    elif row.level == 1 and unit is not None:
        found = [unit.head_email] if unit.head_email else []
        if not found:  # no head on record: the unit's contacts must still hear
            found = _contacts(unit)
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
    return _unique(found)


def _disabled_among(emails: list[str]) -> set[str]:
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
    disabled = _disabled_among(found)
    kept = [e for e in found if e.lower() not in disabled]
    unit = _unit_of(row)
    if not kept and row.level == 1 and unit is not None and unit.head_email:
        contacts = _unique(_contacts(unit))
        disabled |= _disabled_among(contacts)
        kept = [e for e in contacts if e.lower() not in disabled]
    return kept, sum(1 for e in found if e.lower() in disabled)


EMAIL = "email"
INAPP = "inapp"
WEBHOOK = "webhook"
DIGEST = "digest"  # recipient rows held for the unit's daily digest, never sent alone
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


def _inapp_rows(
    row: Notification, *, subject: str, now: dt.datetime, users: list[Any]
) -> list[Notification]:
    """One in-app row per staff user: delivered the moment it is written (no external send)."""
    rows = []
    for user in users:
        recipient = f"user:{user.pk}"
        rows.append(
            Notification(
                event=row.event,
                breach_id=row.breach_id,
                unit_id=row.unit_id,
                channel=INAPP,
                recipient=recipient,
                level=row.level,
                parent=row,
                user=user,
                status=NotificationStatus.SENT,
                sent_at=now,
                idempotency_key=idempotency_key(
                    event=row.event,
                    subject=subject,
                    recipient=recipient,
                    channel=INAPP,
                    level=row.level,
                ),
            )
        )
    return rows


def _active_endpoints(agency_id: int) -> list[WebhookEndpoint]:
    """The agency's active endpoints, each with the ids of the units it is limited to."""
    return list(
        WebhookEndpoint.objects.filter(agency_id=agency_id, is_active=True).prefetch_related(
            Prefetch("units", queryset=Unit.objects.only("pk"))
        )
    )


def _endpoint_covers(endpoint: WebhookEndpoint, unit_id: int | None) -> bool:
    """An endpoint limited to some units hears only of their breaches; else of all."""
    unit_ids = {unit.pk for unit in endpoint.units.all()}
    return not unit_ids or unit_id in unit_ids


def _webhook_rows(
    row: Notification, *, subject: str, endpoints: list[WebhookEndpoint]
) -> list[Notification]:
    """One pending row per active webhook endpoint of the breach's agency."""
    if row.breach is None:
        return []
    rows = []
    unit_id = row.unit_id or row.breach.unit_id
    for endpoint in endpoints:
        if not _endpoint_covers(endpoint, unit_id):
            continue
        recipient = f"webhook:{endpoint.pk}"
        rows.append(
            Notification(
                event=row.event,
                breach_id=row.breach_id,
                unit_id=row.unit_id,
                channel=WEBHOOK,
                recipient=recipient,
                level=row.level,
                parent=row,
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
        admins = _agency_admin_emails(endpoint.agency_id)
        users = _users_by_email(admins)
        stamp = f"endpoint{endpoint.pk}-{int(now.timestamp())}"
        Notification.objects.bulk_create(
            [
                Notification(
                    event="webhook_disabled",
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
            ],
            ignore_conflicts=True,
        )
        return endpoint


def _agency_admin_emails(agency_id: int) -> list[str]:
    emails = Membership.objects.filter(
        agency_id=agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
    ).exclude(user__email="")
    seen: dict[str, str] = {}
    for email in emails.values_list("user__email", flat=True):
        seen.setdefault(email.strip().lower(), email.strip())
    return list(seen.values())


# --- Refused email addresses ------------------------------------------------------------------


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
        or any(e.strip().lower() == wanted for e in _contacts(unit))
    ]


def _health_reset(email: str) -> None:
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
    disabled = _disabled_among(list(recipients))  # the address itself, now, among them
    recipients = {k: v for k, v in recipients.items() if k not in disabled}
    users = _users_by_email([email for email, _agency in recipients.values()])
    stamp = f"address{health.pk}-{int(now.timestamp() * 1_000_000)}"
    Notification.objects.bulk_create(
        [
            Notification(
                event="email_disabled",
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
        ],
        ignore_conflicts=True,
    )


def _follows_preferences(row: Notification) -> bool:
    """Only new-breach emails (level 0) follow the unit's and each person's preferences.

    Escalations (levels 1+: unit head, agency head and admins, ombudsman) always go out
    by email, one each: nobody can opt out of them.
    """
    return row.level == 0 and row.channel == "email" and bool(row.breach_id)


def _wants_digest(row: Notification) -> bool:
    """The unit's default: are its new-breach emails held for its daily digest?"""
    if not _follows_preferences(row):
        return False
    unit_id = row.unit_id or row.breach.unit_id  # type: ignore[union-attr]
    return UnitNotificationPreference.objects.filter(unit_id=unit_id, digest=True).exists()


def _preferences_by_email(emails: list[str]) -> dict[str, RecipientPreference]:
    """Each address's own preference, in one query (the Lower(email) unique index serves it)."""
    if not emails:
        return {}
    found = RecipientPreference.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=[e.lower() for e in emails]
    )
    return {p.email.lower(): p for p in found}


def _recipient_channels(row: Notification, recipients: list[str]) -> dict[str, str]:
    """Each recipient's channel for this fan-out row: sent now (the row's channel) or held
    for the unit's daily digest (DIGEST). Recipients who excluded the breach's kind are
    left out: they get no email for it (their in-app inbox still does).

    A person's RecipientPreference wins; people without one follow the unit's
    UnitNotificationPreference. Rows that do not follow preferences (escalations) go to
    every recipient on their own channel.
    """
    if not _follows_preferences(row):
        return dict.fromkeys(recipients, row.channel)
    kind = row.breach.kind  # type: ignore[union-attr]
    preferences = _preferences_by_email(recipients)
    unit_digest: bool | None = None  # asked only if someone follows the unit's default
    channels: dict[str, str] = {}
    for email in recipients:
        preference = preferences.get(email.lower())
        if preference is None:
            if unit_digest is None:
                unit_digest = _wants_digest(row)
            channels[email] = DIGEST if unit_digest else row.channel
        elif preference.wants_kind(kind):
            digest = preference.mode == RecipientMode.DIGEST
            channels[email] = DIGEST if digest else row.channel
    return channels


def _users_by_email(emails: list[str]) -> dict[str, Any]:
    from accounts.models import User

    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=[e.lower() for e in emails], is_active=True
    )
    return {u.email.lower(): u for u in users}


class _BatchMemo:
    """Who hears about a fan-out row depends on its unit, level, channel and breach kind,
    not on the breach itself: within one batch each combination is resolved once, so a
    burst of breaches in one unit costs a handful of queries, not a handful per breach."""

    def __init__(self) -> None:
        self.values: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self.values:
            self.values[key] = compute()
        return self.values[key]


def expand_fanouts(*, now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Resolve pending fan-out rows into one row per recipient. Idempotent; returns rows expanded."""
    now = now or timezone.now()
    limit = limit or conf("BATCH_SIZE")
    memo = _BatchMemo()
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=NotificationStatus.PENDING, recipient="")
            .select_related("unit__agency", "breach__unit__agency")
            .order_by("created_at")[:limit]
        )
        new_rows: list[Notification] = []
        expanded: list[int] = []
        unreachable: list[int] = []
        all_disabled: list[int] = []
        for row in rows:
            subject = f"breach{row.breach_id}" if row.breach_id else f"unit{row.unit_id}"
            unit_id = row.unit_id or (row.breach.unit_id if row.breach else None)
            kind = row.breach.kind if row.breach else ""
            if row.breach is not None and row.channel == "email":
                users = memo.get(
                    ("inapp", row.event, unit_id, row.level),
                    functools.partial(inapp_users_for, row),
                )
                endpoints = memo.get(
                    ("webhooks", row.breach.agency_id),
                    functools.partial(_active_endpoints, row.breach.agency_id),
                )
                new_rows += _inapp_rows(row, subject=subject, now=now, users=users)
                new_rows += _webhook_rows(row, subject=subject, endpoints=endpoints)
            # Disabled addresses are left out here, resolved once per (unit, level) in the
            # batch like the recipients themselves.
            recipients, skipped = memo.get(
                ("recipients", row.event, unit_id, row.level, row.channel),
                functools.partial(reachable_recipients_for, row),
            )
            if not recipients:
                (all_disabled if skipped else unreachable).append(row.pk)
                continue
            channels = memo.get(
                ("channels", row.event, unit_id, row.level, row.channel, kind),
                functools.partial(_recipient_channels, row, recipients),
            )
            users_by_email = memo.get(
                ("users", tuple(channels)), functools.partial(_users_by_email, list(channels))
            )
            new_rows += [
                Notification(
                    event=row.event,
                    breach_id=row.breach_id,
                    unit_id=row.unit_id,
                    channel=channel,
                    recipient=email,
                    level=row.level,
                    parent=row,
                    user=users_by_email.get(email.lower()),
                    # Keyed on the row's channel, not on now-or-digest: a recipient who
                    # switches between the two before a re-expansion (a resent fan-out)
                    # still gets the breach once.
                    idempotency_key=idempotency_key(
                        event=row.event,
                        subject=subject,
                        recipient=email,
                        channel=row.channel,
                        level=row.level,
                    ),
                )
                for email, channel in channels.items()
            ]
            expanded.append(row.pk)
        Notification.objects.bulk_create(new_rows, ignore_conflicts=True, batch_size=1000)
        Notification.objects.filter(pk__in=expanded).update(
            status=NotificationStatus.EXPANDED, sent_at=now
        )
        Notification.objects.filter(pk__in=unreachable).update(
            status=NotificationStatus.FAILED,
            last_error="No recipient: the unit (or agency) has no contact address.",
        )
        Notification.objects.filter(pk__in=all_disabled).update(
            status=NotificationStatus.FAILED,
            last_error="No recipient: every address of the unit (or agency) is disabled "
            "after repeated refusals.",
        )
    return len(rows)


# --- Draining --------------------------------------------------------------------------


@dataclass
class DrainResult:
    expanded: int = 0
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _due(now: dt.datetime) -> Q:
    return (
        Q(status=NotificationStatus.PENDING)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & ~Q(channel=DIGEST)
    )


def claim(*, now: dt.datetime, limit: int) -> list[int]:
    """Claim due recipient rows: pending -> sending, in one short transaction."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .exclude(recipient="")
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                status=NotificationStatus.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
    return ids


def backoff(attempts: int) -> dt.timedelta:
    seconds = conf("BACKOFF_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, conf("BACKOFF_MAX_SECONDS")))


# Only table names are interpolated (model constants); every value is a parameter.
RECORD_SENT_SQL = f"""
    WITH attempt AS (
        INSERT INTO {NotificationAttempt._meta.db_table}
            (notification_id, started_at, finished_at, result, error)
        VALUES (%s, %s, %s, %s, '')
    )
    UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s, last_error = ''
    WHERE id = %s AND status = %s"""  # noqa: S608

# The same for an email row, also resetting the address's count of refusals. Folded into
# the one statement rather than asked first: no extra round trip per sent message, and
# in the common case (no health row, or a count of 0) it is one probe of the unique
# lower(email) index of a small table that writes nothing.
RECORD_SENT_EMAIL_SQL = f"""
    WITH attempt AS (
        INSERT INTO {NotificationAttempt._meta.db_table}
            (notification_id, started_at, finished_at, result, error)
        VALUES (%s, %s, %s, %s, '')
    ), health AS (
        UPDATE {EmailAddressHealth._meta.db_table}
        SET consecutive_permanent_failures = 0, updated_at = %s
        WHERE lower(email) = lower(%s) AND consecutive_permanent_failures > 0
            AND disabled_at IS NULL
    )
    UPDATE {Notification._meta.db_table} SET status = %s, sent_at = %s, last_error = ''
    WHERE id = %s AND status = %s"""  # noqa: S608


def record_outcome(
    row: Notification, outcome: Outcome, *, started: dt.datetime, now: dt.datetime
) -> str:
    """Record one attempt and move the row on. Returns the row's new status."""
    if outcome.result == AttemptResult.SENT and connection.vendor == "postgresql":
        # The hot path, as one statement (its own transaction): the attempt and the move to
        # `sent` commit together in a single round trip, right after the message left.
        finished = timezone.now()
        attempt: list[Any] = [row.pk, started, finished, AttemptResult.SENT]
        sent: list[Any] = [NotificationStatus.SENT, finished, row.pk, NotificationStatus.SENDING]
        with connection.cursor() as cursor:
            if row.channel == EMAIL:
                # + the address's reset: updated_at, the address
                params = [*attempt, finished, row.recipient, *sent]
                cursor.execute(RECORD_SENT_EMAIL_SQL, params)
            else:
                cursor.execute(RECORD_SENT_SQL, [*attempt, *sent])
        return NotificationStatus.SENT
    with transaction.atomic():
        NotificationAttempt.objects.create(
            notification=row,
            started_at=started,
            finished_at=timezone.now(),
            result=outcome.result,
            error=outcome.error,
        )
        still_ours = Notification.objects.filter(pk=row.pk, status=NotificationStatus.SENDING)
        if outcome.result == AttemptResult.SENT:
            status = NotificationStatus.SENT
            still_ours.update(status=status, sent_at=timezone.now(), last_error="")
            if row.channel == EMAIL:
                _health_reset(row.recipient)
        elif outcome.result == AttemptResult.PERMANENT:
            status = NotificationStatus.FAILED
            still_ours.update(status=status, last_error=outcome.error)
            if row.channel == EMAIL and outcome.address_refused:
                email_health_record_refusal(email=row.recipient, error=outcome.error, now=now)
        else:
            window_start = row.queued_at or row.created_at
            retry_at = now + backoff(row.attempts)
            if retry_at - window_start > dt.timedelta(seconds=conf("RETRY_LIMIT_SECONDS")):
                status = NotificationStatus.FAILED
                still_ours.update(
                    status=status,
                    last_error=f"Gave up after {row.attempts} attempts: {outcome.error}",
                )
            else:
                status = NotificationStatus.PENDING
                still_ours.update(
                    status=status,
                    next_attempt_at=retry_at,
                    claimed_at=None,
                    last_error=outcome.error,
                )
    return status


class _Recorder:
    """Records each outcome the moment the channel reports it (one short transaction).

    The outcome is committed before the next message goes, so a worker that dies mid-batch
    leaves at most the one message in flight with an unknown outcome ("The one window").
    """

    def __init__(self, *, result: DrainResult, now: dt.datetime) -> None:
        self.result = result
        self.now = now
        self.recorded: set[int] = set()
        self.started = timezone.now()

    def __call__(self, row: Notification, outcome: Outcome) -> None:
        status = record_outcome(row, outcome, started=self.started, now=self.now)
        self.result.outcomes[status] += 1
        self.recorded.add(row.pk)
        if row.channel == WEBHOOK and row.webhook_endpoint_id is not None:
            webhook_record(endpoint_id=row.webhook_endpoint_id, outcome=outcome, now=self.now)
        self.started = timezone.now()


def drain(
    *, now: dt.datetime | None = None, batch_size: int | None = None, max_batches: int = 1000
) -> DrainResult:
    """Expand fan-outs, then claim, send and record until nothing is due."""
    now = now or timezone.now()
    batch_size = batch_size or conf("BATCH_SIZE")
    result = DrainResult()
    while expand_fanouts(now=now, limit=batch_size):
        result.expanded += 1
    for _ in range(max_batches):
        ids = claim(now=now, limit=batch_size)
        if not ids:
            break
        result.claimed += len(ids)
        rows = list(
            Notification.objects.filter(pk__in=ids)
            .select_related(
                "user",
                "unit__agency",
                "breach__unit",
                "breach__agency",
                "breach__service",
                "breach__delivery",
                "webhook_endpoint",
            )
            .order_by("pk")
        )
        by_channel: dict[str, list[Notification]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for channel, channel_rows in by_channel.items():
            recorder = _Recorder(result=result, now=now)
            sender = CHANNELS.get(channel)
            if sender is None:
                for row in channel_rows:
                    recorder(row, Outcome(AttemptResult.PERMANENT, f"Unknown channel {channel!r}"))
            else:
                sender(channel_rows, recorder)
            for row in channel_rows:
                if row.pk not in recorder.recorded:
                    recorder(row, Outcome(AttemptResult.TRANSIENT, "The channel gave no outcome."))
    return result


# --- The sweeper and the resend action ---------------------------------------------------


def requeue_stale(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Rows stuck in `sending` (their worker died) go back to pending; count due rows waiting."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=conf("STALE_SENDING_SECONDS"))
    with transaction.atomic():
        stale = list(
            Notification.objects.select_for_update(skip_locked=True).filter(
                status=NotificationStatus.SENDING, claimed_at__lt=cutoff
            )
        )
        NotificationAttempt.objects.bulk_create(
            [
                NotificationAttempt(
                    notification=row,
                    started_at=row.claimed_at or now,
                    finished_at=now,
                    result=AttemptResult.TRANSIENT,
                    error="Outcome unknown: the worker that claimed it did not finish.",
                )
                for row in stale
            ]
        )
        Notification.objects.filter(pk__in=[r.pk for r in stale]).update(
            status=NotificationStatus.PENDING, claimed_at=None, next_attempt_at=None
        )
    waiting = (
        Notification.objects.filter(_due(now))
        .filter(created_at__lt=now - dt.timedelta(seconds=conf("PENDING_KICK_SECONDS")))
        .count()
    )
    return {"requeued": len(stale), "waiting": waiting}


def notification_resend(*, notification: Notification, acting_user: Any) -> Notification:
    """Queue a failed notification again, with a fresh retry window."""
    if not (
        can(acting_user, Action.ANSWER_BREACH, notification)
        or can(acting_user, Action.MANAGE_AGENCY, notification)
    ):
        raise PermissionDeniedError()
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification.pk)
        if row.status != NotificationStatus.FAILED:
            raise ApplicationError("Only a failed notification can be sent again.", code="state")
        row.status = NotificationStatus.PENDING
        row.next_attempt_at = None
        row.claimed_at = None
        row.queued_at = timezone.now()
        row.save(update_fields=["status", "next_attempt_at", "claimed_at", "queued_at"])
    return row


# --- The in-app inbox ----------------------------------------------------------------------


def notification_mark_read(
    *, notification: Notification, acting_user: Any, now: dt.datetime | None = None
) -> Notification:
    """Mark one of the user's own in-app notifications read (idempotent)."""
    if notification.channel != INAPP or notification.user_id != getattr(acting_user, "pk", None):
        raise PermissionDeniedError()
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, acting_user: Any, now: dt.datetime | None = None) -> int:
    """Mark every unread in-app notification of the user read; returns how many."""
    return Notification.objects.filter(
        user_id=acting_user.pk, channel=INAPP, read_at__isnull=True
    ).update(read_at=now or timezone.now())


# --- The daily digest ----------------------------------------------------------------------


def digest_key(*, unit_id: int, recipient: str, date: dt.date) -> str:
    return f"digest:{unit_id}:{recipient.lower()}:{date.isoformat()}"[:200]


def digest_collect(*, now: dt.datetime | None = None) -> int:
    """Gather held digest items into one email row per (unit, recipient, day).

    Idempotent per recipient per day (key digest:<unit>:<recipient>:<date>): items that
    arrive after the day's digest left wait for the next day's. The digest rows are then
    sent by the drainer like any email. Returns the number of digest rows written.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    written = 0
    with transaction.atomic():
        items = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                channel=DIGEST,
                status=NotificationStatus.PENDING,
                digest__isnull=True,
                created_at__lte=now,
            )
            .order_by("created_at", "pk")
        )
        groups: dict[tuple[int, str], list[Notification]] = defaultdict(list)
        for item in items:
            groups[(item.unit_id or 0, item.recipient.lower())].append(item)
        for (unit_id, _recipient), group in groups.items():
            first = group[0]
            digest, created = Notification.objects.get_or_create(
                idempotency_key=digest_key(unit_id=unit_id, recipient=first.recipient, date=today),
                defaults={
                    "event": "digest",
                    "channel": "email",
                    "unit_id": unit_id or None,
                    "recipient": first.recipient,
                    "user": first.user,
                },
            )
            if not created:  # lock it: a drainer must not claim it while items join
                digest = Notification.objects.select_for_update().get(pk=digest.pk)
            if not created and digest.status != NotificationStatus.PENDING:
                continue  # today's digest already went out: these wait for tomorrow
            written += int(created)
            Notification.objects.filter(pk__in=[i.pk for i in group]).update(
                digest=digest, status=NotificationStatus.EXPANDED, sent_at=now
            )
    return written
