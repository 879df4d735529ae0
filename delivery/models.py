"""Service deliveries (permohonan): one citizen's request, held to the promise in force."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Calendar, Unit
from services.models import Channel, Service, StandardVersion, TimeUnit

# Tracking codes avoid look-alike characters (0/O, 1/I/L) so they can be read over the phone.
TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


TRACKING_LENGTH = 10
_TRACKING_SPACE = len(TRACKING_ALPHABET) ** TRACKING_LENGTH


def new_tracking_code() -> str:
    """Ten characters drawn uniformly from the alphabet: one random number below 31**10,
    written in base 31 (a bulk import draws one per row; ten draws each cost more)."""
    number = secrets.randbelow(_TRACKING_SPACE)
    base = len(TRACKING_ALPHABET)
    characters = []
    for _position in range(TRACKING_LENGTH):
        number, digit = divmod(number, base)
        characters.append(TRACKING_ALPHABET[digit])
    return "".join(characters)


class DeliveryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a complete file")
    OPEN = "open", _("In process")
    PAUSED = "paused", _("Paused: waiting for the citizen")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The clock runs (or stands paused): a due date can still be missed or moved.
ACTIVE_STATUSES = (DeliveryStatus.OPEN, DeliveryStatus.PAUSED)


class Outcome(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The clock runs (or stands paused): a due date can still be missed or moved.
ACTIVE_STATUSES = (DeliveryStatus.OPEN, DeliveryStatus.PAUSED)


class ServiceDelivery(models.Model):
    """Permohonan: one citizen's request, from submission to the product.

    The promise it is held to is copied from the standard version in force at submission
    (`promise_value`, `promise_unit`), so that set-based SQL needs no join to compute due
    dates. `due_date`/`due_at` are stored and indexed (ARCHITECTURE decision 3).
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="deliveries")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="deliveries")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="deliveries")
    version = models.ForeignKey(
        StandardVersion, on_delete=models.PROTECT, related_name="deliveries"
    )
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("agency reference"), max_length=80)
    tracking_code = models.CharField(
        _("tracking code"), max_length=12, unique=True, default=new_tracking_code
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default="counter"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.OPEN
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    file_complete_at = models.DateTimeField(_("file complete at"), null=True, blank=True)
    clock_started_at = models.DateTimeField(null=True, blank=True)
    clock_start_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=300, blank=True)
    fee_charged = models.PositiveBigIntegerField(_("fee charged (Rp)"), default=0)
    promise_value = models.PositiveIntegerField()
    promise_unit = models.CharField(max_length=20, choices=TimeUnit.choices)
    promised_cost = models.PositiveBigIntegerField(default=0)
    paused_working_days = models.PositiveIntegerField(default=0)
    paused_minutes = models.PositiveIntegerField(default=0)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    extended_due_date = models.DateField(_("extended due date"), null=True, blank=True)
    extension_reason = models.CharField(_("reason for the extension"), max_length=300, blank=True)
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    working_days_taken = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("service delivery")
        verbose_name_plural = _("service deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "reference"], name="delivery_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(completed_at__gte=models.F("submitted_at")),
                name="delivery_completed_after_submitted",
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="delivery_due_open", condition=Q(status="open")),
            models.Index(fields=["service", "completed_at"], name="delivery_service_completed"),
            models.Index(fields=["agency", "completed_at"], name="delivery_agency_completed"),
            # The national league (`selectors.agency_league`): each agency's completed
            # deliveries of a period and how many were on time, read from the index alone
            # (an index-only scan: no heap row per delivery; `submitted_at` is the bound
            # `completed_between` adds for partition pruning). INCLUDE is PostgreSQL's;
            # SQLite builds the plain partial index.
            models.Index(
                fields=["agency", "completed_at"],
                include=["due_at", "submitted_at"],
                name="delivery_agency_done",
                condition=Q(status="completed"),
            ),
            models.Index(fields=["unit", "completed_at"], name="delivery_unit_completed"),
            # Open311's request list: newest first within a date window (opendata/open311).
            models.Index(fields=["submitted_at", "id"], name="delivery_submitted"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.tracking_code})"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id

    @property
    def is_on_time(self) -> bool | None:
        if self.completed_at is None or self.due_at is None:
            return None
        return self.completed_at <= self.due_at

    @property
    def is_overcharged(self) -> bool:
        return self.fee_charged > self.promised_cost


class DeliveryPause(models.Model):
    """The clock stopped, e.g. waiting for the citizen to bring a missing document."""

    # Deliveries are partitioned by month on PostgreSQL (delivery/partitions.py): no
    # database foreign key into them; Django applies on_delete.
    delivery = models.ForeignKey(
        ServiceDelivery, on_delete=models.CASCADE, db_constraint=False, related_name="pauses"
    )
    reason = models.CharField(_("reason"), max_length=300)
    started_at = models.DateTimeField(_("paused at"))
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery"],
                condition=Q(ended_at__isnull=True),
                name="delivery_one_open_pause",
            ),
        ]

    def __str__(self) -> str:
        return self.reason


class DeliveryReferenceClaim(models.Model):
    """The `(agency, reference)` of every delivery, unpartitioned: keeps "one delivery per
    agency reference" (`delivery_reference_unique`) across the monthly partitions of
    `delivery_servicedelivery` on PostgreSQL, where a unique index cannot span partitions
    (core/partitioning.py, written by triggers; delivery/partitions.py). The bulk importer
    locks these rows to serialise writers of the same references. Unused elsewhere: SQLite
    keeps the unique constraint on the delivery table itself."""

    pk = models.CompositePrimaryKey("agency_id", "reference")
    agency_id = models.BigIntegerField()
    reference = models.CharField(max_length=80)

    def __str__(self) -> str:
        return f"{self.agency_id} {self.reference}"


class DeliveryTrackingClaim(models.Model):
    """The tracking code of every delivery, unpartitioned: keeps tracking codes nationally
    unique across the monthly partitions (as DeliveryReferenceClaim)."""

    tracking_code = models.CharField(max_length=12, primary_key=True)

    def __str__(self) -> str:
        return self.tracking_code
