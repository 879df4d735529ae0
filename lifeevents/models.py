"""Life events and business events (CPSV-AP's cv:LifeEvent and cv:BusinessEvent): a journey a
citizen or an entrepreneur makes across agencies, curated by the national curators.

A `LifeEvent` is an ordered set of `LifeEventStep`s, each a service of any agency; a step may
need what earlier steps of the same event produce (`depends_on`): the birth certificate before
the family card before the child identity card. What a step promises (time, cost,
requirements) is never copied here: it is read from the service's current published standard.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.history import HistoricalRecords
from services.models import Service


class EventKind(models.TextChoices):
    LIFE = "life", _("Life event")
    BUSINESS = "business", _("Business event")


class LifeEvent(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    curated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("curated by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("public:life_event", kwargs={"slug": self.slug})

    def policy_owner(self) -> tuple[None, None]:
        # A journey belongs to no agency: only national curators (and superusers) shape it.
        return None, None


class LifeEventStep(models.Model):
    """One step of a journey: a service, and the earlier steps whose product it needs."""

    event = models.ForeignKey(LifeEvent, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        related_name="life_event_steps",
        verbose_name=_("service"),
    )
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_(
            "What this step gives the citizen for the next ones, e.g. the birth certificate."
        ),
    )
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="needed_by",
        verbose_name=_("needs the result of"),
    )

    history = HistoricalRecords(m2m_fields=[depends_on])

    class Meta:
        verbose_name = _("life event step")
        verbose_name_plural = _("life event steps")
        ordering = ["event", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "order"], name="life_event_step_order_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.service}"

    def clean_dependencies(self, prerequisites: list[LifeEventStep]) -> None:
        """A step needs only earlier steps of its own event (which also rules out cycles)."""
        for other in prerequisites:
            if other.event_id != self.event_id:
                raise ValidationError(
                    {"depends_on": _("A step can only need steps of its own life event.")},
                    code="other_event",
                )
            if other.pk == self.pk or other.order >= self.order:
                raise ValidationError(
                    {"depends_on": _("A step can only need steps that come before it.")},
                    code="not_earlier",
                )
