"""Ombudsman cases (Peraturan Ombudsman 58/2023): what belongs together, its flow, findings
(LAHP), corrective actions (tindakan korektif) and recommendations (rekomendasi).

A case groups breaches (several of one unit and kind in a period, or those a complaint
points at) and carries everything the ombudsman needs: the breaches' own facts and answers
(read from oversight), requests for explanation, internal notes, findings, actions and a
history of who did what (`CaseEvent`). The flow is data (`cases/flow.py`).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from oversight.models import Maladministration

# Common practice (DOMAIN.md): corrective actions about 30 days, a recommendation's progress
# within 60 days, an incomplete report 30 days to be completed, the draft 14 days to answer.
# Working days of the agency's calendar; each is overridable per case or action.
DEFAULT_ACTION_DAYS = 30
DEFAULT_RECOMMENDATION_DAYS = 60
DEFAULT_INFO_DAYS = 30
DEFAULT_DRAFT_RESPONSE_DAYS = 14
DEFAULT_EXPLANATION_DAYS = 14
# A corrective action's "due soon" reminder: this many working days before its deadline.
DUE_SOON_WORKING_DAYS = 5


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    VERIFICATION = "verification", _("Verification")
    AWAITING_INFO = "awaiting_info", _("Waiting for information")
    EXAMINATION = "examination", _("Examination")
    DRAFT_FINDINGS = "draft_findings", _("Draft findings")
    FINAL = "final", _("Final findings")
    MONITORING = "monitoring", _("Monitoring corrective actions")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    FOUND = "found", _("Maladministration found")
    NOT_FOUND = "not_found", _("No maladministration found")
    STOPPED = "stopped", _("Examination stopped")


class Case(models.Model):
    """A matter before the ombudsman, about one unit of one agency."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("agencies.Unit", on_delete=models.CASCADE, related_name="+")
    # Set when every breach of the case concerns one service (its public page shows the
    # finding).
    service = models.ForeignKey(
        "services.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind of breach"), max_length=40, blank=True)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=CaseState.choices, default=CaseState.REGISTERED
    )
    urgent = models.BooleanField(_("urgent (fast lane)"), default=False)
    assignee = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    breaches = models.ManyToManyField(
        "oversight.Breach", through="CaseBreach", related_name="cases", blank=True
    )
    # The complaint (feedback.complaints) the case was opened from, if any: a plain number,
    # since cases sits below feedback on the floor plan. Its complainant may respond to the
    # draft findings (from the complaint's tracking page); the identity stays with the
    # complaint, behind feedback.complaints.privacy.
    complaint_id = models.PositiveBigIntegerField(_("complaint"), null=True, blank=True)
    # The verification clock: an incomplete case waits for information until then.
    info_due_at = models.DateTimeField(_("information due"), null=True, blank=True)
    # From the first request or draft on, the agency's staff see the case (never before:
    # verification is the ombudsman's own business).
    shown_to_agency_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"))
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["state", "-created_at"], name="case_state_recent"),
            models.Index(fields=["agency", "state"], name="case_agency_state"),
        ]
        constraints = [
            # One complaint, one case.
            models.UniqueConstraint(
                fields=["complaint_id"],
                condition=Q(complaint_id__isnull=False),
                name="case_complaint_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"K-{self.created_at:%Y}-{self.pk:05d}"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id


class CaseBreach(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    # No database constraint: breaches are partitioned by month on PostgreSQL
    # (core/partitioning.py); Django cascades.
    breach = models.ForeignKey(
        "oversight.Breach", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            # A breach belongs to one case: grouping it twice would judge it twice.
            models.UniqueConstraint(fields=["breach"], name="case_breach_once")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.breach_id}"


class CaseEvent(models.Model):
    """The case's history: every transition and answer, who and when. Shown to reviewers;
    the agency sees its own answers through the objects they created, not this log."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class CaseNote(models.Model):
    """An internal note of the ombudsman: never shown to the agency or the public."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"note {self.pk} of case {self.case_id}"


def _evidence_path(instance: Any, filename: str) -> str:
    # A random name: the file is only ever served through a permission-checked view.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"case-evidence/{secrets.token_hex(16)}.{suffix[:5]}"


class ExplanationRequest(models.Model):
    """The ombudsman asks the unit to explain (examination), with a deadline in working days
    of the unit's calendar; missed, it becomes a breach (cases.rules)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests")
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(_("asked at"))
    due_days = models.PositiveSmallIntegerField(_("working days to answer"))
    due_at = models.DateTimeField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to=_evidence_path, blank=True)
    answered_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [
            models.Index(
                fields=["due_at"], name="case_request_open_due", condition=Q(answered_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"request {self.pk} of case {self.case_id}"

    def policy_owner(self) -> tuple[int, int]:
        return self.case.agency_id, self.case.unit_id


class Finding(models.Model):
    """The findings (LAHP): a draft the agency may answer within a window, then final."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="finding")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    # One or more of the ten categories (found); stored as a list of Maladministration values.
    categories = models.JSONField(_("categories"), default=list, blank=True)
    # What the public page shows: written without the citizen's identity.
    summary = models.TextField(_("summary (published, anonymised)"), blank=True)
    stop_reason = models.TextField(_("reason for stopping"), blank=True)
    draft_issued_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    response = models.TextField(_("the agency's response"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A case from a complaint: the complainant's response to the draft, in the same window.
    reporter_response = models.TextField(_("the complainant's response"), blank=True)
    reporter_responded_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(_("final on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["final_at"], name="finding_final")]

    def __str__(self) -> str:
        return f"finding of case {self.case_id}"

    def policy_owner(self) -> tuple[int, int]:
        return self.case.agency_id, self.case.unit_id

    def category_labels(self) -> list[str]:
        labels = dict(Maladministration.choices)
        return [str(labels.get(value, value)) for value in self.categories]


class ActionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed (draft findings)")
    OPEN = "open", _("Open")
    REPORTED_DONE = "reported_done", _("Reported done")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected: to be done again")


class CorrectiveAction(models.Model):
    """Tindakan korektif: what the agency must do, by when (working days of its calendar)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="actions")
    # Denormalised from the case for the sweep's set-based SELECT and the policy.
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("agencies.Unit", on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("action"))
    due_days = models.PositiveSmallIntegerField(
        _("working days to complete"), default=DEFAULT_ACTION_DAYS
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PROPOSED
    )
    reported_done_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The "due soon" reminder (DUE_SOON_WORKING_DAYS working days before the deadline, on
    # the unit's calendar): when it is due, and when it went out (once).
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Settled when accepted: done (reported) by its deadline, or not.
    on_time = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="action_pending_due",
                condition=Q(status__in=["open", "rejected"]),
            ),
            models.Index(fields=["agency", "accepted_at"], name="action_agency_accepted"),
            models.Index(
                fields=["remind_at"],
                name="action_reminder_pending",
                condition=Q(reminded_at=None, status__in=["open", "rejected"]),
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id

    def public_state(self, now: Any = None) -> str:
        """Where the action stands, as the public page says it: done on time, done late,
        raised to a recommendation, overdue, or open."""
        if self.status == ActionStatus.ACCEPTED:
            return "done_on_time" if self.on_time else "done_late"
        if hasattr(self, "recommendation"):
            return "recommendation"
        now = now or timezone.now()
        if self.due_at is not None and self.due_at < now:
            return "overdue"
        return "open"


class ActionReport(models.Model):
    """The agency's report on an action: a progress note, evidence, or 'done'."""

    action = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="reports")
    text = models.TextField(_("progress note"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to=_evidence_path, blank=True)
    done = models.BooleanField(_("done"), default=False)
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"report {self.pk} on action {self.action_id}"

    def policy_owner(self) -> tuple[int, int]:
        return self.action.agency_id, self.action.unit_id


class Recommendation(models.Model):
    """Rekomendasi: an ignored action raised, binding, with its own deadline."""

    action = models.OneToOneField(
        CorrectiveAction, on_delete=models.CASCADE, related_name="recommendation"
    )
    text = models.TextField(_("recommendation"))
    due_days = models.PositiveSmallIntegerField(default=DEFAULT_RECOMMENDATION_DAYS)
    due_at = models.DateTimeField(_("progress due"))
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"recommendation on action {self.action_id}"
