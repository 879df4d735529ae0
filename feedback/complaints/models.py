"""A complaint, its evidence and its events.

Privacy is the default path. `is_anonymous` (the complaint may be shown, the identity is
hidden from the agency and everyone else but the ombudsman) and `is_confidential` (the
complaint itself is never public) are separate choices, both on unless the citizen turns
them off. Either one keeps the identity (`contact_*`) off every agency-facing path: see
feedback.complaints.privacy. The original description is kept as written; what is shown
beyond the handlers is `public_text`, written by a handler (moderation), and only when the
citizen agreed (not confidential).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Unit
from delivery.models import TRACKING_ALPHABET, ServiceDelivery
from feedback.complaints.states import ComplaintAction, ComplaintStatus
from services.models import Service

COMPLAINT_CODE_LENGTH = 12


def new_complaint_code() -> str:
    """A citizen's tracking code: 12 characters of 31 (about 59 bits), unguessable."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(COMPLAINT_CODE_LENGTH))


def evidence_storage() -> FileSystemStorage:
    """Evidence lives outside MEDIA_ROOT (never served by the web server): under
    MAKLUMAT_VAR_DIR/private/complaint-evidence, read only through the permission-checked
    view."""
    return FileSystemStorage(location=str(settings.VAR_DIR / "private" / "complaint-evidence"))


class ComplaintCategory(models.TextChoices):
    TIME = "time", _("It took longer than promised")
    COST = (
        "cost",
        _("I was charged more than the published cost, or asked for an unofficial payment"),
    )
    REQUIREMENTS = "requirements", _("I was asked for requirements not in the standard")
    REFUSED = "refused", _("I was refused service")
    CONDUCT = "conduct", _("Rude or unfair treatment")
    FACILITIES = "facilities", _("Facilities for vulnerable groups were missing")
    OTHER = "other", _("Something else")


class Complaint(models.Model):
    tracking_code = models.CharField(
        _("tracking code"), max_length=12, unique=True, default=new_complaint_code
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="complaints")
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    delivery = models.ForeignKey(
        ServiceDelivery,
        on_delete=models.SET_NULL,
        # Deliveries are partitioned by month on PostgreSQL (delivery/partitions.py): no
        # database foreign key; Django applies on_delete.
        db_constraint=False,
        null=True,
        blank=True,
        related_name="complaints",
    )
    category = models.CharField(_("what went wrong"), max_length=20, choices=ComplaintCategory)
    occurred_on = models.DateField(_("date of the service"))
    location = models.CharField(_("where"), max_length=200, blank=True)
    # As the citizen wrote it: handlers see it until they moderate; then only the ombudsman.
    description = models.TextField(_("description"), max_length=5000)
    # What a handler moderated (personal data and abuse redacted): shown beyond the handlers.
    public_text = models.TextField(_("moderated text"), max_length=5000, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=True)
    is_confidential = models.BooleanField(_("confidential"), default=True)
    contact_name = models.CharField(_("name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=40, blank=True)
    # Double opt-in: emails about the complaint go out only once the address is confirmed.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ComplaintStatus, default=ComplaintStatus.RECEIVED
    )
    received_at = models.DateTimeField(_("received at"))
    verify_due_at = models.DateTimeField(_("verification due"), null=True, blank=True)
    # Verified, routed on or asked for more: the handlers' first response.
    verify_done_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    answer_due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(_("answer"), max_length=5000, blank=True)
    resolve_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(_("why the answer did not solve it"), blank=True)
    # The reason as a handler moderated it (what the unit reads); the original is kept for
    # the ombudsman, like the description.
    reopen_public_text = models.TextField(_("moderated reason"), max_length=5000, blank=True)
    reopen_moderated_at = models.DateTimeField(null=True, blank=True)
    # The second answer's clock: the answer limit again, from the reopening.
    reanswer_due_at = models.DateTimeField(_("second answer due"), null=True, blank=True)
    reanswered_at = models.DateTimeField(null=True, blank=True)
    info_request = models.TextField(_("information asked for"), blank=True)
    # The ombudsman's desk: escalated by a handler, or asked for by the citizen.
    escalated_at = models.DateTimeField(null=True, blank=True)
    ombudsman_requested_at = models.DateTimeField(null=True, blank=True)
    # A verified complaint about time or cost on a known request: the request's breach.
    linked_breach = models.ForeignKey(
        "oversight.Breach",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # breaches are partitioned by month (core/partitioning.py)
    )
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["agency", "status"], name="complaint_agency_status"),
            models.Index(fields=["unit", "status"], name="complaint_unit_status"),
            models.Index(fields=["service", "received_at"], name="complaint_service_received"),
            models.Index(
                fields=["verify_due_at"],
                condition=Q(verify_done_at__isnull=True),
                name="complaint_verify_pending",
            ),
            models.Index(
                fields=["answer_due_at"],
                condition=Q(first_answered_at__isnull=True),
                name="complaint_answer_pending",
            ),
            models.Index(
                fields=["reanswer_due_at"],
                condition=Q(reanswered_at__isnull=True),
                name="complaint_reanswer_pending",
            ),
            models.Index(
                fields=["resolve_due_at"],
                condition=Q(closed_at__isnull=True),
                name="complaint_resolve_pending",
            ),
        ]
        constraints = [
            # The citizen may reopen once, and says why.
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | ~Q(reopen_reason=""),
                name="complaint_reopen_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} · {self.get_category_display()}"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id

    @property
    def is_private(self) -> bool:
        """Either choice hides the identity from the agency."""
        return self.is_anonymous or self.is_confidential

    @property
    def may_be_public(self) -> bool:
        """The text may be published: the citizen agreed and a handler moderated it."""
        return not self.is_confidential and self.moderated_at is not None and bool(self.public_text)


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    PDF = "pdf", _("PDF document")


class ComplaintEvidence(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=10, choices=EvidenceKind)
    # A generated name: the citizen's file name (it may hold their name) is not kept.
    file = models.FileField(storage=evidence_storage, upload_to="%Y/%m/")
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.complaint.tracking_code} · {self.get_kind_display()}"


class ComplaintEvent(models.Model):
    """One step of a complaint: who (a staff account, or nobody: the citizen), what, when."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=ComplaintAction)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Shown to the citizen on the status page (an answer, a question); internal otherwise.
    note = models.TextField(blank=True)
    is_public = models.BooleanField(default=False)
    # Routing: the agency it came from.
    from_agency = models.ForeignKey(
        Agency, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaint_event_at")]

    def __str__(self) -> str:
        return f"{self.complaint_id} · {self.action}"
