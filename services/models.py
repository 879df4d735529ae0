"""Services (jenis pelayanan) and their versioned standards (standar pelayanan).

A `Service` is the stable identity. A `StandardVersion` holds the 14 components
of UU 25/2009 Pasal 21 / PermenPANRB 15/2014 as structured data. A published
version is the promise: it never changes; a change is a new version.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Unit
from core.errors import ApplicationError
from core.history import HistoricalRecords


class ServiceCategory(models.TextChoices):
    POPULATION = "population", _("Population and civil registration")
    LICENSING = "licensing", _("Business licensing")
    BUILDING = "building", _("Building and spatial planning")
    LAND = "land", _("Land")
    HEALTH = "health", _("Health")
    EDUCATION = "education", _("Education")
    SOCIAL = "social", _("Social welfare")
    TRANSPORT = "transport", _("Transport")
    TAX = "tax", _("Taxes and levies")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    ONLINE = "online", _("Online")
    MOBILE = "mobile", _("Mobile service")


class Service(models.Model):
    """Jenis pelayanan: one kind of service, e.g. an electronic ID card (KTP-el)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="services")
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("responsible unit"),
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100)
    category = models.CharField(
        _("category"), max_length=20, choices=ServiceCategory.choices, default="other"
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Other names citizens use.")
    )
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Full-text search (PostgreSQL): kept up to date by services.search.service_search_refresh,
    # GIN-indexed in the migration (not in Meta.indexes, so that SQLite can migrate too).
    search_vector = SearchVectorField(null=True, editable=False)

    history = HistoricalRecords(excluded_fields=["search_vector"])

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "slug"], name="service_slug_unique_per_agency"
            )
        ]
        indexes = [
            # The search without words (filters only) lists services by name: read in this
            # order and stopped after a page, instead of sorting every published service.
            models.Index(fields=["name", "id"], name="service_name_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "public:service", kwargs={"agency_slug": self.agency.slug, "slug": self.slug}
        )

    def get_channels_display(self) -> list[str]:
        labels = dict(Channel.choices)
        return [str(labels.get(c, c)) for c in self.channels]


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONSULTATION = "consultation", _("In public consultation")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


EDITABLE_STATUSES = frozenset(
    {VersionStatus.DRAFT, VersionStatus.CONSULTATION, VersionStatus.AWAITING_APPROVAL}
)
FINAL_STATUSES = frozenset(
    {VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN}
)


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    HOURS = "hours", _("hours")
    MINUTES = "minutes", _("minutes")


class ClockStart(models.TextChoices):
    ON_RECEIPT = "on_receipt", _("when the application is received")
    ON_COMPLETE = "on_complete", _("when the file is complete and fees are paid")


class Facility(models.TextChoices):
    """Sarana, prasarana dan/atau fasilitas (component 8)."""

    DISABILITY_ACCESS = "disability_access", _("Access for people with disabilities")
    PRIORITY_COUNTER = "priority_counter", _("Priority counter (elderly, pregnant women)")
    LACTATION_ROOM = "lactation_room", _("Lactation room")
    CHILDREN_AREA = "children_area", _("Children's play area")
    WAITING_ROOM = "waiting_room", _("Waiting room")
    TOILETS = "toilets", _("Toilets")
    PARKING = "parking", _("Parking")
    QUEUE_SYSTEM = "queue_system", _("Queue number system")
    INFORMATION_DESK = "information_desk", _("Information desk")


class StandardVersionQuerySet(models.QuerySet["StandardVersion"]):
    def update(self, **kwargs: Any) -> int:
        content = set(kwargs) - StandardVersion.LIFECYCLE_FIELDS
        if content and self.filter(status__in=FINAL_STATUSES).exists():
            raise ApplicationError(
                "A published standard version cannot be changed; create a new version.",
                code="immutable",
            )
        return super().update(**kwargs)

    def published(self) -> StandardVersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)


class StandardVersion(models.Model):
    """Standar pelayanan: one version of a service's standard, with the 14 components."""

    # Fields that may change after publication (the life cycle, not the promise).
    LIFECYCLE_FIELDS = frozenset(
        {"status", "superseded_at", "withdrawn_at", "withdrawn_reason", "updated_at"}
    )

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version number"))
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    change_summary = models.CharField(_("what changed"), max_length=300, blank=True)

    # 3. Jangka waktu penyelesaian
    processing_time_value = models.PositiveIntegerField(_("processing time"), null=True, blank=True)
    processing_time_unit = models.CharField(
        _("unit of time"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    clock_start = models.CharField(
        _("the clock starts"),
        max_length=20,
        choices=ClockStart.choices,
        default=ClockStart.ON_COMPLETE,
    )
    # 4. Biaya/tarif ("gratis" is a cost of zero)
    is_free = models.BooleanField(_("free of charge"), default=False)
    total_cost = models.PositiveBigIntegerField(_("total cost (Rp)"), default=0, editable=False)
    # 5. Produk pelayanan
    product = models.TextField(_("product"), blank=True)
    # 7. Dasar hukum: list of regulation titles
    legal_basis = models.JSONField(_("legal basis"), default=list, blank=True)
    # 8. Sarana, prasarana dan/atau fasilitas
    facilities = models.JSONField(_("facilities"), default=list, blank=True)
    facilities_note = models.TextField(_("other facilities"), blank=True)
    # 9-14
    staff_competence = models.TextField(_("staff competence"), blank=True)
    internal_supervision = models.TextField(_("internal supervision"), blank=True)
    staff_count = models.PositiveIntegerField(_("number of staff"), null=True, blank=True)
    service_guarantee = models.TextField(_("service guarantee"), blank=True)
    safety_security = models.TextField(_("safety and security"), blank=True)
    performance_evaluation = models.TextField(_("performance evaluation"), blank=True)

    # The decree (surat keputusan) that set the standard.
    decree_number = models.CharField(_("decree number (nomor SK)"), max_length=120, blank=True)
    decree_date = models.DateField(_("decree date"), null=True, blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    next_review_date = models.DateField(_("next review date"), null=True, blank=True)
    consultation_closes_on = models.DateField(_("consultation closes on"), null=True, blank=True)
    incomplete_acknowledged = models.BooleanField(
        _("published knowing it is incomplete"), default=False
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords()
    objects = StandardVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard version")
        verbose_name_plural = _("standard versions")
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "number"], name="standard_version_number_unique"
            ),
            # Decision 1: at most one current published version per service.
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(status="published"),
                name="standard_one_published_per_service",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_review_date"])]

    def __str__(self) -> str:
        return f"{self.service} v{self.number}"

    def policy_owner(self) -> tuple[int, int]:
        return self.service.agency_id, self.service.unit_id

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            self._refuse_change_to_final_version(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def _refuse_change_to_final_version(self, update_fields: Any) -> None:
        stored: dict[str, Any] | None = type(self).objects.filter(pk=self.pk).values().first()  # type: ignore[assignment]
        if stored is None or stored["status"] not in FINAL_STATUSES:
            return
        fields = (
            set(update_fields) if update_fields else {f.attname for f in self._meta.concrete_fields}
        )
        changed = {
            name
            for name in fields - self.LIFECYCLE_FIELDS
            if name in stored and stored[name] != getattr(self, name)
        }
        if changed:
            raise ApplicationError(
                "A published standard version cannot be changed; create a new version.",
                code="immutable",
                extra={"fields": sorted(changed)},
            )

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status in FINAL_STATUSES:
            raise ApplicationError(
                "A published standard version cannot be deleted.", code="immutable"
            )
        return super().delete(*args, **kwargs)


class VersionChild(models.Model):
    """A row of a standard version's structured content: frozen with its version."""

    version: models.ForeignKey[StandardVersion, StandardVersion]
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def _check_editable(self) -> None:
        status = (
            StandardVersion.objects.filter(pk=self.version.pk)
            .values_list("status", flat=True)
            .first()
        )
        if status in FINAL_STATUSES:
            raise ApplicationError(
                "A published standard version cannot be changed; create a new version.",
                code="immutable",
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_editable()
        return super().delete(*args, **kwargs)


class Requirement(VersionChild):
    """Persyaratan (component 1)."""

    version = models.ForeignKey(
        StandardVersion, on_delete=models.CASCADE, related_name="requirements"
    )
    name = models.CharField(_("requirement"), max_length=300)
    is_mandatory = models.BooleanField(_("mandatory"), default=True)
    where_to_get = models.CharField(_("where to get it"), max_length=300, blank=True)
    copies = models.CharField(_("copies / format"), max_length=120, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta(VersionChild.Meta):
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")

    def __str__(self) -> str:
        return self.name


class ProcedureStep(VersionChild):
    """Sistem, mekanisme dan prosedur (component 2): one numbered step."""

    version = models.ForeignKey(StandardVersion, on_delete=models.CASCADE, related_name="steps")
    actor = models.CharField(_("who"), max_length=160)
    description = models.TextField(_("what happens"))
    duration_value = models.PositiveIntegerField(_("duration"), null=True, blank=True)
    duration_unit = models.CharField(
        _("unit of time"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.MINUTES
    )

    history = HistoricalRecords()

    class Meta(VersionChild.Meta):
        verbose_name = _("procedure step")
        verbose_name_plural = _("procedure steps")

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:60]}"


class CostItem(VersionChild):
    """Biaya/tarif (component 4): an amount in rupiah with its legal basis."""

    version = models.ForeignKey(
        StandardVersion, on_delete=models.CASCADE, related_name="cost_items"
    )
    name = models.CharField(_("item"), max_length=200)
    amount = models.PositiveBigIntegerField(_("amount (Rp)"))
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta(VersionChild.Meta):
        verbose_name = _("cost item")
        verbose_name_plural = _("cost items")

    def __str__(self) -> str:
        return f"{self.name}: Rp {self.amount}"


class ComplaintChannelKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("Email")
    WEB = "web", _("Website")
    LAPOR = "lapor", _("SP4N-LAPOR!")
    IN_PERSON = "in_person", _("In person")
    COMPLAINT_BOX = "box", _("Complaint box")


class ComplaintChannel(VersionChild):
    """Penanganan pengaduan, saran dan masukan (component 6)."""

    version = models.ForeignKey(
        StandardVersion, on_delete=models.CASCADE, related_name="complaint_channels"
    )
    kind = models.CharField(_("channel"), max_length=20, choices=ComplaintChannelKind.choices)
    value = models.CharField(_("contact"), max_length=300)

    history = HistoricalRecords()

    class Meta(VersionChild.Meta):
        verbose_name = _("complaint channel")
        verbose_name_plural = _("complaint channels")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class ConsultationComment(models.Model):
    """A citizen's comment on a draft standard in public consultation (FKP)."""

    version = models.ForeignKey(
        StandardVersion, on_delete=models.CASCADE, related_name="consultation_comments"
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    body = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("consultation comment")
        verbose_name_plural = _("consultation comments")

    def __str__(self) -> str:
        return self.body[:60]
