"""Breaches of the published promise, found by the sweep, reviewed by the ombudsman."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Literal

from django.contrib.contenttypes.fields import GenericRelation
from django.core import signing
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords


class BreachKind(models.TextChoices):
    AT_RISK = "at_risk", _("Delivery at risk of being late")
    LATE_DELIVERY = "late_delivery", _("Late delivery")
    OVERDUE_OPEN = "overdue_open", _("Overdue open request")
    OVERCHARGE = "overcharge", _("Overcharge")
    SERVICE_LEVEL_MISS = "service_level_miss", _("On-time rate below target")
    STALE_STANDARD = "stale_standard", _("Standard past its review date")
    MISSING_CHARTER = "missing_charter", _("Unit without a published charter")
    INCOMPLETE_STANDARD = "incomplete_standard", _("Incomplete published standard")
    # Found by feedback's rule (feedback.breaches), registered into oversight.rules.
    LOW_SATISFACTION = "low_satisfaction", _("Satisfaction grade below target")
    # Found by feedback's complaint rule (feedback.complaints.breaches).
    UNANSWERED_COMPLAINT = "unanswered_complaint", _("Complaint not handled in time")
    # Found by the cases app's rules (cases.rules), registered into oversight.rules: the
    # ombudsman's deadlines missed by the agency.
    CORRECTIVE_ACTION_OVERDUE = (
        "corrective_action_overdue",
        _("Corrective action past its deadline"),
    )
    EXPLANATION_OVERDUE = "explanation_overdue", _("Explanation to the ombudsman not given in time")
    RECOMMENDATION_OVERDUE = (
        "recommendation_overdue",
        _("Ombudsman recommendation past its deadline"),
    )


class BreachStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EXPLAINED = "explained", _("Explained")
    REMEDIED = "remedied", _("Remedied")
    DISMISSED = "dismissed", _("Dismissed")
    CONFIRMED = "confirmed", _("Confirmed")
    RESOLVED = "resolved", _("Resolved by correction")
    # Closed from the review desk: the matter is not the ombudsman's to decide (a reason is
    # recorded in the breach's events).
    OUT_OF_AUTHORITY = "out_of_authority", _("Closed: outside the ombudsman's authority")


class Maladministration(models.TextChoices):
    """The Ombudsman's categories (DOMAIN.md)."""

    UNDUE_DELAY = "undue_delay", _("Undue delay (penundaan berlarut)")
    ILLEGAL_CHARGE = (
        "illegal_charge",
        _("Request for money, goods or services (permintaan imbalan)"),
    )
    PROCEDURE_DEVIATION = (
        "procedure_deviation",
        _("Deviation from procedure (penyimpangan prosedur)"),
    )
    REFUSAL = "refusal", _("Refusal of service (tidak memberikan pelayanan)")
    INCOMPETENCE = "incompetence", _("Incompetence (tidak kompeten)")
    ABUSE_OF_AUTHORITY = "abuse_of_authority", _("Abuse of authority (penyalahgunaan wewenang)")
    DISCRIMINATION = "discrimination", _("Discrimination (diskriminasi)")
    IMPROPER_CONDUCT = "improper_conduct", _("Improper conduct (tidak patut)")
    PARTIALITY = "partiality", _("Partiality (berpihak)")
    CONFLICT_OF_INTEREST = "conflict_of_interest", _("Conflict of interest (konflik kepentingan)")


class Severity(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    OVERDUE = "overdue", _("Overdue")
    VERY_OVERDUE = "very_overdue", _("Very overdue")
    NOTICE = "notice", _("Notice")


class BreachRule(models.Model):
    """A rule's settings as data: national (agency empty) or for one agency."""

    kind = models.CharField(_("kind"), max_length=40, choices=BreachKind.choices)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("breach rule")
        verbose_name_plural = _("breach rules")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(agency__isnull=True), name="breach_rule_one_national"
            ),
            models.UniqueConstraint(fields=["kind", "agency"], name="breach_rule_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.agency or _('national')}"


ON_DESK = Q(on_desk_at__isnull=False)


class Breach(models.Model):
    """A fact: this subject broke this promise in this period. Unique by construction."""

    kind = models.CharField(_("kind"), max_length=40, choices=BreachKind.choices)
    subject_type = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    period = models.CharField(max_length=20, blank=True, default="")
    # agency and service: indexed by the (agency, status) and (service, status) indexes below.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="breaches", db_index=False
    )
    unit = models.ForeignKey("agencies.Unit", on_delete=models.CASCADE, related_name="breaches")
    service = models.ForeignKey(
        "services.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="breaches",
        db_index=False,
    )
    version = models.ForeignKey(
        "services.StandardVersion",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="breaches",
    )
    delivery = models.ForeignKey(
        "delivery.ServiceDelivery",
        on_delete=models.CASCADE,
        # Deliveries are partitioned by month (delivery/partitions.py): no database FK.
        db_constraint=False,
        null=True,
        blank=True,
        related_name="breaches",
    )
    measured_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    promised_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    value_unit = models.CharField(max_length=20, blank=True)
    severity = models.CharField(
        _("severity"), max_length=20, choices=Severity.choices, default=Severity.NOTICE
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    detected_at = models.DateTimeField(_("detected at"))
    status = models.CharField(
        _("status"), max_length=20, choices=BreachStatus.choices, default=BreachStatus.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    suggested_category = models.CharField(
        _("suggested maladministration category"),
        max_length=40,
        choices=Maladministration.choices,
        blank=True,
    )
    decided_category = models.CharField(
        _("decided maladministration category"),
        max_length=40,
        choices=Maladministration.choices,
        blank=True,
    )
    # The charter's compensation (late and overdue requests): when and how much the unit paid.
    compensation_paid_at = models.DateField(_("compensation paid on"), null=True, blank=True)
    compensation_paid_amount = models.PositiveBigIntegerField(
        _("compensation paid (Rp)"), null=True, blank=True
    )
    # The outbox rows about the breach (their subject): deleted with it.
    notifications = GenericRelation(
        "notifications.Notification",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="breach",
    )
    # The ombudsman's review desk (oversight/desk.py): since when the breach is on it
    # (escalated to the top of the ladder, disputed, or pulled in by a reviewer; empty: not
    # on the desk) and which reviewer holds it. Nullable, so the sweep's set-based INSERT,
    # which names its columns, leaves them empty.
    on_desk_at = models.DateTimeField(_("on the review desk since"), null=True, blank=True)
    assignee = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the partial desk index below
        verbose_name=_("assigned to"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id", "period"], name="breach_unique_fact"
            )
        ]
        indexes = [
            models.Index(fields=["agency", "status"], name="breach_agency_status"),
            models.Index(fields=["service", "status"], name="breach_service_status"),
            # The review desk's filters and keyset orders (oversight/selectors.py): partial,
            # so the millions of breaches never on the desk cost nothing to index; covering
            # (INCLUDE, PostgreSQL only) the columns the desk's usual filters test, so that a
            # page's ids and the capped counts per state are read from the index alone
            # (index-only scans), however sparse the filter.
            models.Index(
                fields=["occurred_at", "id"],
                name="breach_desk_occurred",
                condition=ON_DESK,
                include=["status", "agency", "assignee", "kind", "on_desk_at"],
            ),
            models.Index(
                fields=["on_desk_at", "id"],
                name="breach_desk_entered",
                condition=ON_DESK,
                include=["status", "agency", "assignee", "kind", "occurred_at"],
            ),
            # (agency, status): one agency's or one province's counts per state probe
            # exactly their rows; its page sorts the agency's few hundred ids.
            models.Index(
                fields=["agency", "status", "occurred_at", "id"],
                name="breach_desk_agency",
                condition=ON_DESK,
                include=["assignee", "kind", "on_desk_at"],
            ),
            models.Index(
                fields=["status", "occurred_at", "id"],
                name="breach_desk_status",
                condition=ON_DESK,
                include=["agency", "assignee", "kind", "on_desk_at"],
            ),
            models.Index(
                fields=["assignee", "status", "occurred_at", "id"],
                name="breach_desk_assignee",
                condition=ON_DESK,
                include=["agency", "kind", "on_desk_at"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.subject_id}"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id

    def enter_desk(self, now: dt.datetime) -> None:
        """Put this (locked) breach on the review desk, once: it stays there, decided or not."""
        if self.on_desk_at is None:
            self.on_desk_at = now
            self.save(update_fields=["on_desk_at"])


class BreachClaim(models.Model):
    """The fact key of every breach, unpartitioned: keeps "one breach per fact" across the
    monthly partitions of `oversight_breach` on PostgreSQL, where a unique index cannot span
    partitions (core/partitioning.py, written by a trigger). Unused elsewhere: SQLite keeps
    the unique constraint on the breach table itself."""

    pk = models.CompositePrimaryKey("kind", "subject_type", "subject_id", "period")
    kind = models.CharField(max_length=40)
    subject_type = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    period = models.CharField(max_length=20, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type} #{self.subject_id} {self.period}"


class SweepRun(models.Model):
    """One run of the sweep, for observability."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    watermark = models.DateTimeField(help_text="Changes up to this moment are covered by this run.")
    examined = models.PositiveIntegerField(default=0)
    created = models.JSONField(default=dict, blank=True)
    resolved = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["succeeded", "-started_at"], name="sweep_run_recent")]

    def __str__(self) -> str:
        return f"sweep {self.started_at:%Y-%m-%d %H:%M:%S}"


class SweepError(models.Model):
    """A record that made a rule fail: logged and skipped, shown to admins."""

    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="errors")
    kind = models.CharField(max_length=40, choices=BreachKind.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sweep error")
        verbose_name_plural = _("sweep errors")

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


# --- The unit's answer and the escalation ladder (notifications issue) ------------------


class BreachEventKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    EXPLAINED = "explained", _("Explained")
    REMEDIED = "remedied", _("Remedy recorded")
    DISPUTED = "disputed", _("Disputed")
    ESCALATED = "escalated", _("Escalated")
    DECIDED = "decided", _("Decided by the ombudsman")
    COMPENSATED = "compensated", _("Compensation paid")
    # The review desk (oversight/desk.py).
    PULLED_IN = "pulled_in", _("Pulled into review")
    ASSIGNED = "assigned", _("Assigned")
    EXPLANATION_ASKED = "explanation_asked", _("Explanation requested by the ombudsman")
    OUT_OF_AUTHORITY = "out_of_authority", _("Closed as outside the ombudsman's authority")


class BreachEvent(models.Model):
    """The audit trail of a breach: every answer, escalation and decision, timestamped."""

    # No database constraint: breaches are partitioned by month on PostgreSQL (a foreign key
    # would need their (id, occurred_at) key); Django cascades (core/partitioning.py).
    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="events", db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=BreachEventKind.choices)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(
        max_length=20, blank=True, help_text="staff (signed-in page), link (email), system"
    )
    by_email = models.EmailField(blank=True, help_text="Who used the one-click email link.")
    text = models.TextField(_("text"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to="breach-answers/%Y/%m/", blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("breach event")
        verbose_name_plural = _("breach events")

    def __str__(self) -> str:
        return f"{self.breach_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class BreachEscalation(models.Model):
    """Where a breach stands on the escalation ladder (one row per breach, created lazily).

    A separate table rather than new columns on Breach, so the sweep's set-based INSERT
    (which names its columns) is untouched.
    """

    # No database constraint: see BreachEvent.breach.
    breach = models.OneToOneField(
        Breach, on_delete=models.CASCADE, related_name="escalation", db_constraint=False
    )
    level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["level"], name="breach_escalation_level"),
            # The review desk's "disputed" filter: the few disputed rows, by breach.
            models.Index(
                fields=["breach"],
                name="breach_escalation_disputed",
                condition=Q(disputed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.breach_id} level {self.level}"


class EscalationPolicy(models.Model):
    """An agency's escalation ladder, in working days of the unit's calendar.

    Unacknowledged after `unit_head_after_days` -> head of the unit; after
    `agency_head_after_days` more -> agency head and admins; after `ombudsman_after_days`
    more -> the ombudsman review queue. Agencies without a row use the defaults.
    """

    agency = models.OneToOneField(
        "agencies.Agency", on_delete=models.CASCADE, related_name="escalation_policy"
    )
    unit_head_after_days = models.PositiveSmallIntegerField(
        _("to the head of the unit after (working days)"), default=3
    )
    agency_head_after_days = models.PositiveSmallIntegerField(
        _("then to the agency head after (more working days)"), default=5
    )
    ombudsman_after_days = models.PositiveSmallIntegerField(
        _("then to the ombudsman after (more working days)"), default=10
    )

    class Meta:
        verbose_name = _("escalation ladder")
        verbose_name_plural = _("escalation ladders")

    def __str__(self) -> str:
        return str(self.agency)


# --- The citizen concerned -----------------------------------------------------------------

FOLLOWER_UNSUBSCRIBE_SALT = "maklumat.citizen-follower-unsubscribe"
FOLLOWER_CONFIRM_SALT = "maklumat.citizen-follower-confirm"
# How long a confirmation link works; unconfirmed followers are deleted after as long.
FOLLOWER_CONFIRM_MAX_AGE = dt.timedelta(days=7)


def new_follower_token() -> str:
    return secrets.token_urlsafe(24)


class CitizenFollower(models.Model):
    """A citizen who asked, on the public tracking page, to hear by email when the unit
    answers a breach about their request.

    The address is personal data: never shown publicly nor to other citizens; staff see
    only how many follow a request (the complainant's identity is protected).

    Double opt-in (UU 27/2022, verified consent): a new follower is unconfirmed and gets
    one email with a signed confirmation link; only confirmed followers are told of
    answers. Unconfirmed followers are deleted after `FOLLOWER_CONFIRM_MAX_AGE`.
    """

    delivery = models.ForeignKey(
        "delivery.ServiceDelivery",
        on_delete=models.CASCADE,
        # Deliveries are partitioned by month (delivery/partitions.py): no database FK.
        db_constraint=False,
        related_name="followers",
    )
    email = models.EmailField(_("email"))
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=new_follower_token)
    created_at = models.DateTimeField(auto_now_add=True)
    # Empty: not confirmed yet (no answer email is sent to the address).
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # When the last confirmation email was asked for (at most one an hour is sent).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("citizen following a request")
        verbose_name_plural = _("citizens following a request")
        constraints = [
            models.UniqueConstraint(
                "delivery", Lower("email"), name="citizen_follower_once_per_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"follower {self.pk} of delivery {self.delivery_id}"

    def policy_owner(self) -> tuple[int, int]:
        return self.delivery.agency_id, self.delivery.unit_id

    def signed_unsubscribe_token(self) -> str:
        """What the unsubscribe link carries: the random token, signed (never expires)."""
        return signing.Signer(salt=FOLLOWER_UNSUBSCRIBE_SALT).sign(self.unsubscribe_token)

    def signed_confirmation_token(self) -> str:
        """What the confirmation link carries: the random token, signed with the time of
        signing (another salt than the unsubscribe link: neither opens the other)."""
        return signing.TimestampSigner(salt=FOLLOWER_CONFIRM_SALT).sign(self.unsubscribe_token)


def follower_for_signed_token(signed: str) -> tuple[CitizenFollower | None, bool]:
    """(the follower an unsubscribe link names, whether the link is genuine). A genuine
    link whose follower is gone was already used."""
    try:
        token = signing.Signer(salt=FOLLOWER_UNSUBSCRIBE_SALT).unsign(signed)
    except signing.BadSignature:
        return None, False
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(unsubscribe_token=token)
        .first()
    )
    return follower, True


ConfirmationLink = Literal["valid", "expired", "invalid"]


def follower_for_confirmation_token(
    signed: str, *, max_age: dt.timedelta = FOLLOWER_CONFIRM_MAX_AGE
) -> tuple[CitizenFollower | None, ConfirmationLink]:
    """(the follower a confirmation link names, what the link is). A valid link whose
    follower is gone names nothing left to confirm."""
    try:
        token = signing.TimestampSigner(salt=FOLLOWER_CONFIRM_SALT).unsign(signed, max_age=max_age)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "invalid"
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(unsubscribe_token=token)
        .first()
    )
    return follower, "valid"


# --- The review desk -----------------------------------------------------------------------


class SavedQueueFilter(models.Model):
    """A reviewer's named view of the review desk: the query string of its filters.

    Only its owner sees, uses or deletes it (oversight/desk.py)."""

    owner = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="saved_queue_filters"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("saved review-desk filter")
        verbose_name_plural = _("saved review-desk filters")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_queue_filter_name")
        ]

    def __str__(self) -> str:
        return self.name
