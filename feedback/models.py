"""Citizen feedback: the satisfaction survey (SKM, PermenPANRB 14/2017).

One `SurveyResponse` row per answered questionnaire: the nine scores (U1..U9, see
feedback.elements), an optional respondent profile and suggestion, and where it came from
(after a request, at most one per request; or the unit's open survey, at most one per
device and period). Results are never stored: they are computed by feedback.skm.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from agencies.models import Agency, Unit
from delivery.models import ServiceDelivery
from feedback.elements import SCORE_FIELDS
from services.models import Service


class SurveyChannel(models.TextChoices):
    AFTER_REQUEST = "after_request", _("After a request")
    OPEN = "open", _("Open survey")


class AgeBand(models.TextChoices):
    UNDER_20 = "under_20", _("Under 20")
    FROM_20 = "20_29", _("20-29")
    FROM_30 = "30_39", _("30-39")
    FROM_40 = "40_49", _("40-49")
    FROM_50 = "50_59", _("50-59")
    FROM_60 = "60_plus", _("60 or over")


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Education(models.TextChoices):
    """The questionnaire's education levels (PermenPANRB 14/2017, annex)."""

    PRIMARY = "primary", _("Primary school or less")
    JUNIOR = "junior", _("Junior high school")
    SENIOR = "senior", _("Senior high school")
    DIPLOMA = "diploma", _("Diploma (D1-D4)")
    BACHELOR = "bachelor", _("Bachelor's degree (S1)")
    POSTGRADUATE = "postgraduate", _("Master's or doctorate (S2, S3)")


class Occupation(models.TextChoices):
    """The questionnaire's occupations (PermenPANRB 14/2017, annex)."""

    CIVIL_SERVANT = "civil_servant", _("Civil servant (PNS)")
    MILITARY = "military", _("Armed forces (TNI)")
    POLICE = "police", _("Police (POLRI)")
    PRIVATE = "private", _("Private employee")
    ENTREPRENEUR = "entrepreneur", _("Entrepreneur")
    STUDENT = "student", _("Student")
    OTHER = "other", _("Other")


def _score_field(verbose: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose)


class SurveyResponse(models.Model):
    """One answered SKM questionnaire (kuesioner)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="survey_responses")
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    # One response per request (a OneToOne: the database refuses a second).
    delivery = models.OneToOneField(
        ServiceDelivery,
        on_delete=models.SET_NULL,
        # Deliveries are partitioned by month (delivery/partitions.py): no database foreign
        # key; Django applies on_delete (the one-to-one's unique index stays).
        db_constraint=False,
        null=True,
        blank=True,
        related_name="survey_response",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=SurveyChannel.choices)
    # The survey period (see feedback.periods), e.g. "2026-Q4".
    period = models.CharField(_("period"), max_length=7)
    # A keyed hash of the open survey's device cookie: one response per device and period.
    device = models.CharField(max_length=64, blank=True, default="")
    score_requirements = _score_field("U1")
    score_procedure = _score_field("U2")
    score_time = _score_field("U3")
    score_cost = _score_field("U4")
    score_product = _score_field("U5")
    score_competence = _score_field("U6")
    score_behaviour = _score_field("U7")
    score_complaints = _score_field("U8")
    score_facilities = _score_field("U9")
    age_band = models.CharField(_("age"), max_length=10, choices=AgeBand.choices, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    education = models.CharField(
        _("education"), max_length=20, choices=Education.choices, blank=True
    )
    occupation = models.CharField(
        _("occupation"), max_length=20, choices=Occupation.choices, blank=True
    )
    suggestion = models.TextField(_("suggestion"), max_length=2000, blank=True)
    # The unit's answer to the suggestion (staff area): "the share of suggestions answered".
    suggestion_answer = models.TextField(_("answer to the suggestion"), max_length=2000, blank=True)
    suggestion_answered_at = models.DateTimeField(null=True, blank=True)
    suggestion_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 4}),
                    name=f"survey_{name}_1_to_4",
                )
                for name in SCORE_FIELDS
            ),
            # An answer after a request names no device. (Its request may later be deleted:
            # the answer stays in the unit's results, so the link is SET_NULL, not required.)
            models.CheckConstraint(
                condition=Q(channel="open") | Q(device=""),
                name="survey_after_request_no_device",
            ),
            models.UniqueConstraint(
                fields=["unit", "period", "device"],
                condition=Q(channel="open") & ~Q(device=""),
                name="survey_one_open_response_per_device",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "period"], name="survey_unit_period"),
            models.Index(fields=["service", "period"], name="survey_service_period"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.period} · {self.get_channel_display()}"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in SCORE_FIELDS)


class SkmFollowUp(models.Model):
    """The follow-up a unit plans after a period's survey (rencana tindak lanjut): the last
    part of the published SKM report. Written by the unit's agency staff."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="skm_follow_ups")
    period = models.CharField(_("period"), max_length=7)
    plan = models.TextField(_("follow-up planned"), max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SKM follow-up plan")
        verbose_name_plural = _("SKM follow-up plans")
        constraints = [
            models.UniqueConstraint(fields=["unit", "period"], name="skm_follow_up_one_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.period}"

    def policy_owner(self) -> tuple[int, int]:
        return self.agency_id, self.unit_id


# Complaints live in their own package; their models belong to this app.
from feedback.complaints.models import (  # noqa: E402
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintEvidence,
    EvidenceKind,
)

__all__ = [
    "AgeBand",
    "Complaint",
    "ComplaintCategory",
    "ComplaintEvent",
    "ComplaintEvidence",
    "Education",
    "EvidenceKind",
    "Occupation",
    "Sex",
    "SkmFollowUp",
    "SurveyChannel",
    "SurveyResponse",
]
