"""Maklumat pelayanan: a unit's signed, published pledge to keep its standards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from core.errors import ApplicationError
from core.history import HistoricalRecords
from services.models import Service

# The wording in common use (UU 25/2009 Pasal 22 practice).
DEFAULT_PLEDGE = (
    "Dengan ini, kami menyatakan sanggup menyelenggarakan pelayanan sesuai standar "
    "pelayanan yang telah ditetapkan dan apabila tidak menepati janji ini, kami siap "
    "menerima sanksi sesuai peraturan perundang-undangan yang berlaku."
)


class CharterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Charter(models.Model):
    """Maklumat pelayanan of one unit."""

    LIFECYCLE_FIELDS = frozenset(
        {"status", "superseded_at", "withdrawn_at", "withdrawn_reason", "updated_at"}
    )

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="charters")
    number = models.PositiveIntegerField(_("version number"))
    status = models.CharField(
        _("status"), max_length=20, choices=CharterStatus.choices, default=CharterStatus.DRAFT
    )
    pledge = models.TextField(_("pledge"), default=DEFAULT_PLEDGE)
    services = models.ManyToManyField(
        Service, related_name="charters", blank=True, verbose_name=_("services covered")
    )
    signatory_name = models.CharField(_("signed by"), max_length=120)
    signatory_title = models.CharField(_("title of the signatory"), max_length=160)
    signed_on = models.DateField(_("signed on"))
    compensation_per_day = models.PositiveBigIntegerField(
        _("compensation per day of delay (Rp)"), null=True, blank=True
    )
    compensation_cap = models.PositiveBigIntegerField(
        _("compensation cap (Rp)"), null=True, blank=True
    )
    decree_number = models.CharField(_("decree number"), max_length=120, blank=True)
    sanction_statement = models.TextField(
        _("sanction statement"),
        blank=True,
        help_text=_("What the unit accepts if it breaks its promise."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    history = HistoricalRecords(m2m_fields=[services])

    class Meta:
        verbose_name = _("charter")
        verbose_name_plural = _("charters")
        ordering = ["unit", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="charter_number_unique"),
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(status="published"),
                name="charter_one_published_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(compensation_cap__isnull=True) | Q(compensation_per_day__isnull=False),
                name="charter_cap_needs_daily_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} v{self.number}"

    def policy_owner(self) -> tuple[int, int]:
        return self.unit.agency_id, self.unit_id

    def get_absolute_url(self) -> str:
        return reverse("public:charter", kwargs={"pk": self.pk})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] != CharterStatus.DRAFT:
                changed = {
                    f.attname
                    for f in self._meta.concrete_fields
                    if f.attname not in self.LIFECYCLE_FIELDS
                    and stored.get(f.attname) != getattr(self, f.attname)
                }
                if changed:
                    raise ApplicationError(
                        "A published charter cannot be changed; create a new version.",
                        code="immutable",
                    )
        super().save(*args, **kwargs)

    @property
    def in_force_until(self) -> Any:
        """When this charter stopped binding the unit (None while it still does)."""
        return self.superseded_at or self.withdrawn_at

    def compensation_owed(self, days_late: int) -> int:
        """Rupiah owed for `days_late` days of delay, capped (cf. Karnataka's Sakala)."""
        if not self.compensation_per_day or days_late <= 0:
            return 0
        owed = self.compensation_per_day * days_late
        return min(owed, self.compensation_cap) if self.compensation_cap else owed
