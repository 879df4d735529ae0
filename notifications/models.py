"""The transactional outbox: a notification is written with the event that causes it.

Life of a row (see notifications/outbox/ for the guarantees):

- A *fan-out* row (recipient "") is written with the event, in the same transaction
  (e.g. oversight's sweep writes one per new breach, its escalation ladder one per level).
  The drainer resolves its recipients at send time (by the rules its app registered:
  notifications/registry.py) and writes one row per recipient (idempotently), then marks
  the fan-out row `expanded`.
- A recipient row goes pending -> sending (claimed in a short transaction) -> sent, or
  back to pending with `next_attempt_at` after a transient failure, or failed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from notifications import registry


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    EXPANDED = "expanded", _("Sent to each recipient")


class Notification(models.Model):
    """One message to send to one recipient through one channel.

    What it is about is stored in columns: `subject` (any model: a generic type and id),
    `subject_event_id` (which of the subject's events it tells of, if any) and
    `recipient`. `idempotency_key` (notifications.keys) makes each message unique:
    nothing is sent twice.
    """

    event = models.CharField(_("event"), max_length=40)
    subject_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_event_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Which of the subject's events the message tells of."
    )
    unit = models.ForeignKey(
        "agencies.Unit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, default="email")
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Added by the delivery machinery.
    # Foreign keys into the outbox have no database constraint: on PostgreSQL the table is
    # partitioned by month and its key is (id, created_at) (notifications/partitions.py);
    # Django still applies on_delete.
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        db_index=False,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="children",
        help_text="The fan-out row this recipient row was resolved from.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        db_index=False,
        null=True,
        blank=True,
        related_name="notifications",
        help_text="The staff account the recipient address belongs to, if any.",
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt"), null=True, blank=True, help_text="Empty: as soon as possible."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Start of the retry window (a resend restarts it). Empty: created_at.",
    )
    last_error = models.TextField(_("last error"), blank=True)
    webhook_endpoint = models.ForeignKey(
        "notifications.WebhookEndpoint",
        on_delete=models.SET_NULL,
        db_index=False,
        null=True,
        blank=True,
        related_name="notifications",
        help_text="Webhook rows: the endpoint posted to. Notices: the endpoint concerned.",
    )
    digest = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        db_index=False,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="digest_items",
        help_text="Digest items: the daily digest email this row went out in.",
    )
    # In-app rows only: when the staff user read it in their inbox (empty: unread).
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        # Most rows end up sent and most columns stay empty: partial indexes keep the hot
        # insert path (the sweep writes one outbox row per new breach) cheap and the
        # drainer's index small.
        constraints = [
            # A constraint, not `unique=True`: no extra varchar_pattern_ops index to maintain.
            models.UniqueConstraint(fields=["idempotency_key"], name="notification_once")
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                name="notification_pending",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["user", "channel", "read_at"],
                name="notification_inbox",
                condition=Q(user__isnull=False),
            ),
            # The inbox page, newest first: in each month's partition a user's in-app rows
            # in the page's order (created_at, id), so PostgreSQL merges the months (Merge
            # Append) and stops at the page's LIMIT instead of sorting all of the user's rows.
            models.Index(
                fields=["user", "created_at", "id"],
                name="notification_inbox_newest",
                condition=Q(channel="inapp"),
            ),
            models.Index(
                fields=["parent"], name="notification_parent", condition=Q(parent__isnull=False)
            ),
            # The messages about one subject (deleting it deletes them: GenericRelation).
            models.Index(
                fields=["subject_type", "subject_id"],
                name="notification_subject",
                condition=Q(subject_id__isnull=False),
            ),
            models.Index(
                fields=["digest"], name="notification_digest", condition=Q(digest__isnull=False)
            ),
            models.Index(
                fields=["webhook_endpoint"],
                name="notification_webhook",
                condition=Q(webhook_endpoint__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_display or self.unit_id} ({self.channel})"

    @property
    def recipient_display(self) -> str:
        """The recipient as staff and operators see it: a citizen's address is masked
        (w***@example.org), as the complainant's identity is protected everywhere."""
        if not registry.is_personal(self.event) or "@" not in self.recipient:
            return self.recipient
        local, _at, domain = self.recipient.rpartition("@")
        return f"{local[:1]}***@{domain}"

    def policy_owner(self) -> tuple[int | None, int | None]:
        if self.unit_id is None:
            return None, None
        return self.unit.agency_id, self.unit_id  # type: ignore[union-attr]


class NotificationClaim(models.Model):
    """The idempotency key of every notification, unpartitioned: keeps "each message once"
    (`notification_once`) across the monthly partitions of the outbox on PostgreSQL, where
    a unique index cannot span partitions (core/partitioning.py, written by a trigger;
    notifications/partitions.py). Unused elsewhere: SQLite keeps the unique constraint on
    the outbox table itself."""

    idempotency_key = models.CharField(max_length=200, primary_key=True)

    def __str__(self) -> str:
        return self.idempotency_key


class WebhookFailure(models.TextChoices):
    """What an agency may know of a failed webhook attempt: a class, never the details.

    The exception text, a port that answered or not, the receiver's status line or body
    would tell an agency admin about hosts and ports the server can reach; the details go
    to the server log only (notifications.channels.post_webhook).
    """

    REFUSED_ADDRESS = "refused: address not allowed", _("Refused: address not allowed")
    REFUSED_HTTPS = "refused: https required", _("Refused: https required")
    REFUSED_URL = "refused: invalid URL", _("Refused: invalid URL")
    NAME_NOT_FOUND = "host name not found", _("Host name not found")
    CONNECT = "could not connect", _("Could not connect")
    TIMEOUT = "timed out", _("Timed out")
    TLS = "TLS error", _("TLS error")
    REDIRECT = "redirect not followed", _("Redirect not followed")
    HTTP_4XX = "HTTP 4xx answer", _("HTTP 4xx answer")
    HTTP_5XX = "HTTP 5xx answer", _("HTTP 5xx answer")
    INVALID_ANSWER = "invalid HTTP answer", _("Invalid HTTP answer")


def webhook_failure_label(error: str) -> str:
    """The failure class in the current language; anything else stored (rows written
    before the classes existed) shows as a plain "delivery failed", never as it is."""
    if not error:
        return ""
    if error in WebhookFailure.values:
        return str(WebhookFailure(error).label)
    return str(_("Delivery failed"))


class WebhookEndpoint(models.Model):
    """An agency's own system, told about its breaches by a signed JSON POST.

    Signature: X-Maklumat-Signature = hex HMAC-SHA256(secret, f"{timestamp}.{body}") with
    X-Maklumat-Timestamp = the Unix time of the attempt. After
    NOTIFICATIONS["WEBHOOK_DISABLE_AFTER"] consecutive permanent failures (4xx) the
    endpoint is disabled and the agency admins are told by email.
    """

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    units = models.ManyToManyField(
        "agencies.Unit",
        blank=True,
        related_name="webhook_endpoints",
        verbose_name=_("units"),
        help_text=_("Only breaches of these units. None chosen: every unit of the agency."),
    )
    secret = models.CharField(_("signing secret"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_permanent_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def last_error_label(self) -> str:
        return webhook_failure_label(self.last_error)

    def policy_owner(self) -> tuple[int | None, int | None]:
        return self.agency_id, None


class EmailAddressHealth(models.Model):
    """How an email address fares with the SMTP server: a row exists once it was refused.

    Each permanent refusal of the address itself (SMTP 5xx to RCPT TO, e.g. "550 no such
    user") counts one; a message accepted for it resets the count. After
    NOTIFICATIONS["EMAIL_DISABLE_AFTER"] consecutive refusals the address is disabled
    (`disabled_at`): new notifications skip it and the admins of every agency whose units
    list it are told by email. An agency admin enables it again on the agency's
    notification settings page. While disabled, the row is frozen (no counting).
    """

    email = models.EmailField(_("email"), max_length=254)
    consecutive_permanent_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("email address health")
        verbose_name_plural = _("email address health")
        constraints = [
            # Case-insensitive; its unique index on lower(email) serves every lookup,
            # including the reset folded into the one-statement SENT record.
            models.UniqueConstraint(Lower("email"), name="email_address_health_email_ci")
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    def policy_owner(self) -> tuple[int | None, int | None]:
        # An address belongs to no single agency: the services check the units listing it.
        return None, None


class UnitNotificationPreference(models.Model):
    """How a unit hears about its new breaches: one email each (default) or a daily digest."""

    unit = models.OneToOneField(
        "agencies.Unit", on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("One email a day listing the new breaches, instead of one email each."),
    )

    class Meta:
        verbose_name = _("unit notification preference")
        verbose_name_plural = _("unit notification preferences")

    def __str__(self) -> str:
        return str(self.unit)

    def policy_owner(self) -> tuple[int | None, int | None]:
        return self.unit.agency_id, self.unit_id


class RecipientMode(models.TextChoices):
    IMMEDIATE = "immediate", _("One email per new breach")
    DIGEST = "digest", _("One daily digest")


class RecipientPreference(models.Model):
    """How one person (one email address) hears about new breaches.

    Applies to the new-breach emails (level 0) of every unit the address is a contact of:
    `mode` "digest" holds them for the unit's daily digest, and `kinds` (values of
    `registry.kind_choices()`, registered by oversight; empty: all) filters them. People
    without a row follow their unit's UnitNotificationPreference. Escalations (levels 1+) always go out by email: they
    cannot be opted out of. The in-app inbox is not affected.
    """

    email = models.EmailField(_("email"), max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recipient_preferences",
        help_text="The staff account this address belongs to, if any.",
    )
    mode = models.CharField(
        _("how to receive new breaches"),
        max_length=20,
        choices=RecipientMode.choices,
        default=RecipientMode.IMMEDIATE,
    )
    kinds = models.JSONField(
        _("kinds of breach"),
        default=list,
        blank=True,
        help_text=_("The kinds of breach to hear about. Empty: all kinds."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recipient preference")
        verbose_name_plural = _("recipient preferences")
        constraints = [
            # Case-insensitive: the drainer looks addresses up by Lower(email), which this
            # constraint's unique index serves.
            models.UniqueConstraint(Lower("email"), name="recipient_preference_email_ci")
        ]

    def __str__(self) -> str:
        return self.email

    def wants_kind(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class AttemptResult(models.TextChoices):
    SENT = "sent", _("Sent")
    TRANSIENT = "transient", _("Failed, will retry")
    PERMANENT = "permanent", _("Failed permanently")


class NotificationAttempt(models.Model):
    """Every attempt to send a notification: when, what happened, and the error."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        db_constraint=False,  # the outbox is partitioned by month (notifications/partitions.py)
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    result = models.CharField(max_length=20, choices=AttemptResult.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.notification_id} {self.result} {self.started_at:%Y-%m-%d %H:%M:%S}"
