"""Agencies (penyelenggara), their units (unit pelayanan) and staff memberships."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from agencies.licences import OpenDataLicence
from core.history import HistoricalRecords


class AgencyLevel(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    NATIONAL_AGENCY = "national_agency", _("National agency")
    PROVINCE = "province", _("Province")
    REGENCY = "regency", _("Regency")
    CITY = "city", _("City")
    OTHER = "other", _("Other public body")


class AccessFacility(models.TextChoices):
    """Facilities for vulnerable groups (component 8 of the standard; PermenPANRB on services
    friendly to vulnerable groups): people with disabilities, the elderly, pregnant women,
    nursing mothers and children. Where a unit or a location has them, the public pages list
    them and the public search filters on them (agencies/facilities.py)."""

    RAMP = "ramp", _("Ramp")
    ACCESSIBLE_TOILET = "accessible_toilet", _("Accessible toilet")
    PRIORITY_COUNTER = "priority_counter", _("Priority counter")
    LACTATION_ROOM = "lactation_room", _("Lactation room")
    CHILDREN_AREA = "children_area", _("Children's play area")
    SIGN_LANGUAGE_BRAILLE = "sign_language_braille", _("Sign-language or braille service")
    WHEELCHAIR = "wheelchair", _("Wheelchair available")


class Agency(models.Model):
    """Penyelenggara pelayanan publik: the public body that provides services."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    level = models.CharField(_("level"), max_length=20, choices=AgencyLevel.choices)
    region_code = models.CharField(
        _("region code"),
        max_length=13,
        blank=True,
        help_text=_("Kemendagri region code, e.g. 32.73 for Kota Bandung."),
    )
    region_name = models.CharField(_("region"), max_length=120, blank=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="agency-logos/", blank=True)
    head_name = models.CharField(_("head of agency"), max_length=120, blank=True)
    head_title = models.CharField(_("title of the head"), max_length=160, blank=True)
    head_email = models.EmailField(_("email of the head"), blank=True)
    review_interval_months = models.PositiveSmallIntegerField(
        _("standard review interval (months)"),
        null=True,
        blank=True,
        help_text=_("Empty: the national default (12 months)."),
    )
    allows_extension = models.BooleanField(_("allows one extension per delivery"), default=True)
    calendar = models.ForeignKey(
        "agencies.Calendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work calendar"),
        help_text=_("Empty: the national calendar."),
    )
    open_data_licence = models.CharField(
        _("open data licence"),
        max_length=20,
        choices=OpenDataLicence.choices,
        default=OpenDataLicence.CC_BY_4_0,
        help_text=_("The licence under which the agency's rows of the open data are published."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]
        indexes = [models.Index(fields=["region_code"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("public:agency", kwargs={"slug": self.slug})

    @property
    def effective_review_interval_months(self) -> int:
        return self.review_interval_months or settings.MAKLUMAT["REVIEW_INTERVAL_MONTHS"]


class Unit(models.Model):
    """Unit pelayanan: the office that delivers a service and answers for it."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    contact_emails = models.JSONField(
        _("contact emails"), default=list, blank=True, help_text=_("Where breach notices go.")
    )
    head_name = models.CharField(_("head of unit"), max_length=120, blank=True)
    head_title = models.CharField(_("title of the head"), max_length=160, blank=True)
    head_email = models.EmailField(_("email of the head"), blank=True)
    opens_at = models.TimeField(_("opens at"), default=dt.time(8, 0))
    closes_at = models.TimeField(_("closes at"), default=dt.time(16, 0))
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    weekly_hours = models.JSONField(
        _("service hours per weekday"),
        default=dict,
        blank=True,
        help_text=_(
            "Weekday (Monday = 0) to [opens, closes] as HH:MM; a day left out is closed. "
            "Empty: the calendar's working days, from “opens at” to “closes at”."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    calendar = models.ForeignKey(
        "agencies.Calendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work calendar"),
        help_text=_("Empty: the agency's calendar."),
    )
    facilities = models.JSONField(
        _("facilities for vulnerable groups"),
        default=list,
        blank=True,
        help_text=_("Keys of AccessFacility, in their order."),
    )
    facilities_note = models.TextField(_("other facilities"), blank=True)
    locations = models.ManyToManyField(
        "agencies.Location",
        through="agencies.Counter",
        related_name="units",
        blank=True,
        verbose_name=_("service locations"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "slug"], name="unit_slug_unique_per_agency"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="unit_hours_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("public:unit", kwargs={"agency_slug": self.agency.slug, "slug": self.slug})

    @property
    def map_url(self) -> str:
        if self.latitude is None or self.longitude is None:
            return ""
        return (
            "https://www.openstreetmap.org/?mlat="
            f"{self.latitude}&mlon={self.longitude}#map=17/{self.latitude}/{self.longitude}"
        )


class Role(models.TextChoices):
    EDITOR = "editor", _("Editor")
    APPROVER = "approver", _("Approver")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    OMBUDSMAN = "ombudsman", _("Ombudsman reviewer")
    # Curates the life events (journeys across agencies) for the whole country.
    CURATOR = "curator", _("National curator")


# Roles held across every agency, by a membership without an agency.
NATIONAL_ROLES = ("ombudsman", "curator")


class Membership(models.Model):
    """A staff member's role in one agency (optionally limited to one unit).

    Ombudsman reviewers and national curators belong to no agency: their role spans them all.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Empty: the role applies to the whole agency."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=NATIONAL_ROLES) & Q(agency__isnull=True) & Q(unit__isnull=True)
                )
                | (~Q(role__in=NATIONAL_ROLES) & Q(agency__isnull=False)),
                name="membership_agency_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "agency", "role"],
                name="membership_unique_role_per_agency",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="ombudsman"),
                name="membership_one_ombudsman_role",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="curator"),
                name="membership_one_curator_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.unit or self.agency or _("all agencies")
        return f"{self.user} · {self.get_role_display()} · {where}"


class Invitation(models.Model):
    """An agency admin's invitation to join an agency with a role (signed, expiring link)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="invitations")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, null=True, blank=True)
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(condition=~Q(role="ombudsman"), name="invitation_not_ombudsman")
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.agency}"


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class AgencyApiKey(AbstractAPIKey):
    """Kunci API: a machine client's credential for one agency (its own systems).

    The key is shown once; only its hash is stored (SHA-512 of a 32-character random
    secret, by djangorestframework-api-key), with the first 8 characters (`prefix`) kept
    in clear to tell keys apart. A read-write key can do what the agency's editors may,
    never more. A key with no agency is the ombudsman's: read-only, across agencies.
    """

    agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text=_("Empty: the ombudsman's read-only key across agencies."),
    )
    scope = models.CharField(_("scope"), max_length=12, choices=ApiKeyScope.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")  # type: ignore[assignment]
        verbose_name_plural = _("API keys")  # type: ignore[assignment]
        constraints = [
            models.CheckConstraint(
                condition=Q(agency__isnull=False) | Q(scope="read"),
                name="apikey_cross_agency_read_only",
            )
        ]

    @property
    def label(self) -> str:
        """How audit trails name the key: its visible prefix and name."""
        return f"API key {self.prefix} ({self.name})"


class ApiKeyEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    REVOKED = "revoked", _("Revoked")
    REFUSED = "refused", _("Use refused")


class ApiKeyEvent(models.Model):
    """The audit trail of an API key: creation, revocation and refused uses."""

    key = models.ForeignKey(AgencyApiKey, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=ApiKeyEventKind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key event")
        verbose_name_plural = _("API key events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.key.prefix} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Calendar(models.Model):
    """Kalender kerja: which days a unit serves, for counting working days (hari kerja).

    A regional calendar inherits its parent's closures and adds its own. Days are
    materialised in `CalendarDay` with a running working-day index, so "N working days
    after D" is one indexed lookup.
    """

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("inherits from"),
    )
    use_national_holidays = models.BooleanField(_("national public holidays"), default=True)
    closed_on_cuti_bersama = models.BooleanField(
        _("closed on collective leave (cuti bersama)"),
        default=True,
        help_text=_("Many front offices stay open on collective leave days."),
    )
    weekend_days = models.JSONField(
        _("weekly days off"),
        default=list,
        blank=True,
        help_text=_("Weekday numbers, Monday = 0; default Saturday and Sunday."),
    )
    utc_offset_hours = models.SmallIntegerField(
        _("time zone"),
        default=7,
        choices=[(7, "WIB (UTC+7)"), (8, "WITA (UTC+8)"), (9, "WIT (UTC+9)")],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("work calendar")
        verbose_name_plural = _("work calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarException(models.Model):
    """A day set by hand: a local holiday, a closure, or an extra working day."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        CLOSURE = "closure", _("Closure")
        WORKING_DAY = "working_day", _("Working day")

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=160)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day set by hand")
        verbose_name_plural = _("calendar days set by hand")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="calendar_exception_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CalendarDay(models.Model):
    """One materialised day of a calendar.

    `working_day_index` counts the working days up to and including this date (from the
    start of the materialised span); `ordinal` is the date's proleptic ordinal; `day_end`
    is the instant the local day ends (a deadline "by the end of the day").
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    ordinal = models.IntegerField()
    is_working_day = models.BooleanField()
    working_day_index = models.IntegerField()
    day_end = models.DateTimeField()
    name = models.CharField(max_length=160, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]
        indexes = [
            models.Index(fields=["calendar", "working_day_index"], name="calendar_day_wdi"),
            models.Index(fields=["calendar", "ordinal"], name="calendar_day_ordinal"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar_id} {self.date}"


class LocationKind(models.TextChoices):
    OFFICE = "office", _("Office")
    MPP = "mpp", _("Public service mall (MPP)")
    OTHER = "other", _("Other service point")


class Location(models.Model):
    """A physical place where services are given: an office, a public service mall (Mal
    Pelayanan Publik, run by its host district or city and hosting the counters of many
    agencies), or another service point. Units serve at locations through counters."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=LocationKind.choices)
    host_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="hosted_locations",
        verbose_name=_("host agency"),
        help_text=_(
            "The agency that runs the place (for a public service mall, its district or city)."
        ),
    )
    address = models.TextField(_("address"), blank=True)
    province = models.CharField(_("province"), max_length=120, blank=True)
    city = models.CharField(_("regency or city"), max_length=120, blank=True)
    region_code = models.CharField(_("region code"), max_length=13, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    weekly_hours = models.JSONField(
        _("opening hours per weekday"),
        default=dict,
        blank=True,
        help_text=_("Weekday (Monday = 0) to [opens, closes] as HH:MM; a day left out is closed."),
    )
    facilities = models.JSONField(_("facilities for vulnerable groups"), default=list, blank=True)
    facilities_note = models.TextField(_("other facilities"), blank=True)
    is_active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "province", "city"], name="location_kind_region")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="location_both_coordinates_or_none",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("public:location", kwargs={"slug": self.slug})

    def policy_owner(self) -> tuple[int | None, int | None]:
        return self.host_agency_id, None

    @property
    def is_mpp(self) -> bool:
        return self.kind == LocationKind.MPP


class Counter(models.Model):
    """A unit's counter (loket) at a location: the unit serves there."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="counters")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="counters")
    label = models.CharField(
        _("counter"), max_length=60, blank=True, help_text=_("E.g. “Loket 12”.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "location"], name="counter_one_per_unit_and_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} @ {self.location}"

    def policy_owner(self) -> tuple[int | None, int | None]:
        return self.unit.agency_id, self.unit_id
