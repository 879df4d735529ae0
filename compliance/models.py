"""The Ombudsman's compliance assessment (penilaian kepatuhan / opini), as versioned data.

A method (`AssessmentMethod`) holds its dimensions and their weights, each dimension its
indicators (computed from the registry's data, scored 0-3 by an assessor on a visit, or a
count from interviews), and the bands that turn a score into a grade and a zone. Three
methods ship as data (migration 0002): the 2021 zones, the 2022-2024 four dimensions with
the 2023 weights and grades A-E, and the 2025 opinion. Every cut-off the sources did not
give is shipped as an editable default and flagged (`Band.sourced = False`).

An `Assessment` scores one agency (or unit) for one period under one method. Its results
are stored rows (`IndicatorResult`, `DimensionResult`) with the figures behind each; once
the ombudsman publishes a period, they are frozen: pages read the stored rows, never the
live data, so later data changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Unit
from core.history import HistoricalRecords


def _in_language(obj: Any, field: str) -> str:
    """The Indonesian text, or the English one when the page is in English (and it exists)."""
    if (get_language() or "id").startswith("en"):
        return str(getattr(obj, f"{field}_en", "") or getattr(obj, f"{field}_id", ""))
    return str(getattr(obj, f"{field}_id", "") or getattr(obj, f"{field}_en", ""))


class MissingPolicy(models.TextChoices):
    # An indicator without data is left out and the weights of the others in its dimension
    # (and of the dimensions with data) are scaled up to their sum: the score says what is
    # known, and the coverage beside it says how much that is.
    EXCLUDED = "excluded", _("Left out; the other weights are scaled up")
    ZERO = "zero", _("Counted as zero")


class AssessmentMethod(models.Model):
    """One version of the Ombudsman's assessment method."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title_id = models.CharField(_("title (Indonesian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    year_from = models.PositiveSmallIntegerField(_("first year"))
    year_to = models.PositiveSmallIntegerField(_("last year"), null=True, blank=True)
    basis = models.TextField(_("legal basis and sources"), blank=True)
    notes_id = models.TextField(_("notes (Indonesian)"), blank=True)
    notes_en = models.TextField(_("notes (English)"), blank=True)
    missing_policy = models.CharField(
        _("an indicator without data"),
        max_length=20,
        choices=MissingPolicy.choices,
        default=MissingPolicy.EXCLUDED,
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assessment method")
        verbose_name_plural = _("assessment methods")
        ordering = ["year_from", "code"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    @property
    def notes(self) -> str:
        return _in_language(self, "notes")

    @property
    def years(self) -> str:
        if self.year_to is None:
            return f"{self.year_from}–"
        if self.year_to == self.year_from:
            return str(self.year_from)
        return f"{self.year_from}–{self.year_to}"

    def get_absolute_url(self) -> str:
        return reverse("public:compliance_method", kwargs={"code": self.code})


class Dimension(models.Model):
    method = models.ForeignKey(
        AssessmentMethod, on_delete=models.CASCADE, related_name="dimensions"
    )
    code = models.SlugField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title_id = models.CharField(_("title (Indonesian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description_id = models.TextField(_("description (Indonesian)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # Percent of the total score; the dimensions of a method add up to 100.
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    weight_sourced = models.BooleanField(_("weight from the sources"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["method", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["method", "code"], name="dimension_unique_code"),
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=100), name="dimension_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    @property
    def description(self) -> str:
        return _in_language(self, "description")


class IndicatorKind(models.TextChoices):
    COMPUTED = "computed", _("Computed from the registry's data")
    CHECKLIST = "checklist", _("Scored 0-3 by the assessor")
    COUNT = "count", _("Count from interviews")


class Indicator(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("code"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title_id = models.CharField(_("title (Indonesian)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=IndicatorKind.choices)
    # The computation's key in compliance.indicators (computed indicators only).
    computation = models.CharField(_("computation"), max_length=60, blank=True)
    # Relative weight within the dimension (the dimension's indicators need not add to 1).
    weight = models.DecimalField(
        _("weight within the dimension"),
        max_digits=7,
        decimal_places=4,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal(0))],
    )
    # For counts: how many are asked on a visit (4 officers, 30 users, 2 complaint officers).
    count_expected = models.PositiveSmallIntegerField(
        _("interviews expected"), null=True, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["dimension", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="indicator_unique_code"),
            models.CheckConstraint(
                condition=Q(kind="computed", computation__gt="")
                | (~Q(kind="computed") & Q(computation="")),
                name="indicator_computation_iff_computed",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _in_language(self, "title")


class Zone(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class BandScale(models.TextChoices):
    GRADE = "grade", _("Grade and zone")
    POTENTIAL = "potential", _("Maladministration potential")


class Band(models.Model):
    """A score at or above `lower` (and below the next band's) gets this band."""

    method = models.ForeignKey(AssessmentMethod, on_delete=models.CASCADE, related_name="bands")
    scale = models.CharField(
        _("scale"), max_length=20, choices=BandScale.choices, default=BandScale.GRADE
    )
    lower = models.DecimalField(
        _("lowest score (inclusive)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    grade = models.CharField(_("grade"), max_length=10, blank=True)
    zone = models.CharField(_("zone"), max_length=10, choices=Zone.choices)
    label_id = models.CharField(_("label (Indonesian)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)
    # False: the official cut-off was not found; this is an editable default.
    sourced = models.BooleanField(_("cut-off from the sources"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("band")
        verbose_name_plural = _("bands")
        ordering = ["method", "scale", "-lower"]
        constraints = [
            models.UniqueConstraint(
                fields=["method", "scale", "lower"], name="band_unique_lower_edge"
            ),
            models.CheckConstraint(
                condition=Q(lower__gte=0) & Q(lower__lte=100), name="band_lower_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grade or self.get_zone_display()} ≥ {self.lower}"

    @property
    def label(self) -> str:
        return _in_language(self, "label")


class AssessmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Assessment(models.Model):
    """One agency's (or unit's) assessment for one period under one method."""

    method = models.ForeignKey(
        AssessmentMethod, on_delete=models.PROTECT, related_name="assessments"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="assessments")
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, null=True, blank=True, related_name="assessments"
    )
    period = models.CharField(_("period"), max_length=20)
    starts_on = models.DateField(_("period starts on"))
    ends_on = models.DateField(_("period ends on"))
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=AssessmentState.choices,
        default=AssessmentState.DRAFT,
    )
    # The stored result (from the last computation; frozen at publication).
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    coverage = models.DecimalField(
        _("share of the weight with data (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    grade = models.CharField(_("grade"), max_length=10, blank=True)
    zone = models.CharField(_("zone"), max_length=10, choices=Zone.choices, blank=True)
    label_id = models.CharField(max_length=200, blank=True)
    label_en = models.CharField(max_length=200, blank=True)
    potential_id = models.CharField(max_length=200, blank=True)
    potential_en = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-period", "agency__name"]
        constraints = [
            # Two partial constraints rather than nulls_distinct=False, which SQLite lacks.
            models.UniqueConstraint(
                fields=["method", "agency", "period"],
                condition=Q(unit__isnull=True),
                name="assessment_one_per_agency_period",
            ),
            models.UniqueConstraint(
                fields=["method", "unit", "period"],
                condition=Q(unit__isnull=False),
                name="assessment_one_per_unit_period",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="assessment_period_order"
            ),
        ]
        indexes = [models.Index(fields=["state", "period"], name="assessment_state_period")]

    def __str__(self) -> str:
        who = self.unit.name if self.unit_id and self.unit else self.agency.name
        return f"{who} · {self.period}"

    def policy_owner(self) -> tuple[int, int | None]:
        return self.agency_id, self.unit_id

    @property
    def is_published(self) -> bool:
        return self.state == AssessmentState.PUBLISHED

    @property
    def label(self) -> str:
        return _in_language(self, "label")

    @property
    def potential(self) -> str:
        return _in_language(self, "potential")


class DimensionResult(models.Model):
    """A dimension's score in one assessment, with the title and weight it had then."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="dimension_results"
    )
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)
    title_id = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    weight = models.DecimalField(max_digits=7, decimal_places=4)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["assessment", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "dimension"], name="dimension_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title_id}: {self.score}"

    @property
    def title(self) -> str:
        return _in_language(self, "title")


class IndicatorResult(models.Model):
    """An indicator's value in one assessment, with the figures behind it.

    Computed indicators are filled by compliance.indicators (`figures` holds the counts
    the value came from); checklist indicators hold the assessor's 0-3 and note, counts the
    interviews (positive of asked).
    """

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="indicator_results"
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    dimension_code = models.SlugField(max_length=40)
    position = models.PositiveSmallIntegerField(default=0)
    title_id = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=IndicatorKind.choices)
    weight = models.DecimalField(max_digits=7, decimal_places=4)
    # 0-100 as shown (None: no data yet), and the exact value as "numerator/denominator"
    # (scoring stays exact: 2 of 3 is 200/3, not 66.67).
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    exact = models.CharField(max_length=80, blank=True)
    checklist_value = models.PositiveSmallIntegerField(
        _("score (0-3)"), null=True, blank=True, validators=[MaxValueValidator(3)]
    )
    count_positive = models.PositiveIntegerField(_("answered well"), null=True, blank=True)
    count_asked = models.PositiveIntegerField(_("interviewed"), null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="indicator_result_unique"
            ),
            models.CheckConstraint(
                condition=Q(checklist_value__isnull=True) | Q(checklist_value__lte=3),
                name="indicator_result_checklist_range",
            ),
            models.CheckConstraint(
                condition=Q(count_positive__isnull=True)
                | Q(count_asked__isnull=True)
                | Q(count_positive__lte=models.F("count_asked")),
                name="indicator_result_count_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title_id}: {self.score}"

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    def policy_owner(self) -> tuple[int, int | None]:
        return self.assessment.policy_owner()


class Evidence(models.Model):
    """A photo or document an assessor attached to an indicator (type checked on content)."""

    result = models.ForeignKey(IndicatorResult, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="compliance-evidence/%Y/%m/")
    original_name = models.CharField(max_length=200)
    file_type = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["result", "pk"]

    def __str__(self) -> str:
        return self.original_name

    def policy_owner(self) -> tuple[int, int | None]:
        return self.result.assessment.policy_owner()
