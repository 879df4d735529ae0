"""Public reads of /api/v1/ for places and journeys: locations (offices, public service
malls) with their facilities for vulnerable groups, coordinates, hours and the units that
serve there; and the published life and business events with their steps.

Only what the public pages show: open locations and the counters of open units; published
life events (a draft journey, or who curated it, never appears).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from agencies.api import (
    AgencySummarySerializer,
    ClockTimeField,
    NamedChoiceField,
    UnitSummarySerializer,
)
from agencies.facilities import has_facility
from agencies.models import AccessFacility, Counter, Location, LocationKind
from core.api_conventions import (
    ConditionalGetMixin,
    ReadThrottleMixin,
    StableCursorPagination,
    make_etag,
)
from lifeevents.models import EventKind, LifeEvent, LifeEventStep
from opendata.selectors import life_events_with_steps, locations_with_counters, step_needs
from services.api import IntegerFilter
from services.models import Service

# --- Locations -----------------------------------------------------------------------------


class OpeningHoursSerializer(serializers.Serializer[Any]):
    weekday = serializers.IntegerField(
        min_value=0, max_value=6, help_text=_("Monday = 0 to Sunday = 6; a day left out is closed.")
    )
    opens_at = ClockTimeField()
    closes_at = ClockTimeField()


class LocationCounterSerializer(serializers.ModelSerializer[Counter]):
    unit = UnitSummarySerializer(read_only=True)
    agency = AgencySummarySerializer(source="unit.agency", read_only=True)

    class Meta:
        model = Counter
        fields = ["unit", "agency", "label"]
        read_only_fields = fields


class LocationSerializer(serializers.ModelSerializer[Location]):
    kind = NamedChoiceField(LocationKind, read_only=True)
    host_agency = AgencySummarySerializer(read_only=True)
    facilities = serializers.ListField(
        child=NamedChoiceField(AccessFacility),
        read_only=True,
        help_text=_("Facilities for vulnerable groups (component 8 of the standard)."),
    )
    opening_hours = serializers.SerializerMethodField()
    counters = LocationCounterSerializer(
        source="open_counters",
        many=True,
        read_only=True,
        help_text=_("The units that serve here (open units only)."),
    )

    class Meta:
        model = Location
        fields = [
            "id",
            "slug",
            "name",
            "kind",
            "host_agency",
            "address",
            "province",
            "city",
            "region_code",
            "phone",
            "latitude",
            "longitude",
            "opening_hours",
            "facilities",
            "facilities_note",
            "counters",
        ]
        read_only_fields = fields

    @extend_schema_field(OpeningHoursSerializer(many=True))
    def get_opening_hours(self, obj: Location) -> list[dict[str, Any]]:
        hours = obj.weekly_hours or {}
        return [
            {"weekday": int(day), "opens_at": pair[0], "closes_at": pair[1]}
            for day, pair in sorted(hours.items(), key=lambda item: int(item[0]))
        ]


class LocationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=LocationKind.choices)
    host_agency = django_filters.CharFilter(
        field_name="host_agency__slug", help_text=_("Slug of the agency that runs the place.")
    )
    province = django_filters.CharFilter(field_name="province", lookup_expr="iexact")
    city = django_filters.CharFilter(
        field_name="city", lookup_expr="iexact", help_text=_("Regency or city.")
    )
    region_code = django_filters.CharFilter(
        field_name="region_code",
        lookup_expr="startswith",
        help_text=_("Kemendagri region code or its prefix, e.g. 32 or 32.73."),
    )
    facility = django_filters.ChoiceFilter(
        choices=AccessFacility.choices,
        method="filter_facility",
        help_text=_("Has this facility for vulnerable groups."),
    )
    unit = IntegerFilter(method="filter_unit", min_value=1, help_text=_("A unit (id) serves here."))
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("name", "name")), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = Location
        fields = ["kind", "host_agency", "province", "city", "region_code"]

    def filter_facility(
        self, queryset: QuerySet[Location], name: str, value: str
    ) -> QuerySet[Location]:
        return queryset.filter(has_facility(value))

    def filter_unit(
        self, queryset: QuerySet[Location], name: str, value: int
    ) -> QuerySet[Location]:
        counters = Counter.objects.filter(unit_id=value, unit__is_active=True)
        return queryset.filter(pk__in=counters.values("location_id"))


@extend_schema_view(
    list=extend_schema(summary=_("Locations: offices and public service malls (MPP)")),
    retrieve=extend_schema(summary=_("A location with its facilities and counters")),
)
class LocationViewSet(
    ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[Location]
):
    """Open service locations, looked up by slug."""

    serializer_class = LocationSerializer
    pagination_class = StableCursorPagination
    filterset_class = LocationFilter
    lookup_field = "slug"
    # A location's page changes with the place, its host and the units serving there.
    modified_fields = ("updated_at", "host_agency__updated_at", "counters__unit__updated_at")

    def list_validators(self, queryset: QuerySet[Any]) -> tuple[str, Any]:
        # A counter removed leaves no date behind: count the counters too.
        etag, last = super().list_validators(queryset)
        counters = Counter.objects.filter(location__in=queryset.values("pk")).count()
        return make_etag(etag, counters), last

    def get_queryset(self) -> QuerySet[Location]:
        return locations_with_counters()


# --- Life events ---------------------------------------------------------------------------


class StepServiceSerializer(serializers.ModelSerializer[Service]):
    agency = AgencySummarySerializer(read_only=True)
    unit = UnitSummarySerializer(read_only=True)

    class Meta:
        model = Service
        fields = ["id", "slug", "name", "agency", "unit"]
        read_only_fields = fields


class LifeEventStepSerializer(serializers.ModelSerializer[LifeEventStep]):
    service = StepServiceSerializer(read_only=True)
    needs = serializers.SerializerMethodField(
        help_text=_("The orders of the earlier steps whose result this step needs.")
    )
    has_published_standard = serializers.SerializerMethodField(
        help_text=_("false: the service has no published standard yet (not counted in totals).")
    )

    class Meta:
        model = LifeEventStep
        fields = ["order", "service", "note", "needs", "has_published_standard"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_needs(self, obj: LifeEventStep) -> list[int]:
        return step_needs(obj)

    def get_has_published_standard(self, obj: LifeEventStep) -> bool:
        return bool(getattr(obj, "published_count", 0))


class LifeEventSerializer(serializers.ModelSerializer[LifeEvent]):
    kind = NamedChoiceField(EventKind, read_only=True)
    steps = LifeEventStepSerializer(source="public_steps", many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text=_("The public page of the journey."))

    class Meta:
        model = LifeEvent
        fields = ["id", "slug", "kind", "title", "description", "url", "steps"]
        read_only_fields = fields

    def get_url(self, obj: LifeEvent) -> str:
        request = self.context.get("request")
        path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request is not None else path


class LifeEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    service = IntegerFilter(
        method="filter_service", min_value=1, help_text=_("Has a step with this service (id).")
    )
    agency = django_filters.CharFilter(
        method="filter_agency", help_text=_("Has a step with a service of this agency (slug).")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("title", "title")), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = LifeEvent
        fields = ["kind"]

    def filter_service(
        self, queryset: QuerySet[LifeEvent], name: str, value: int
    ) -> QuerySet[LifeEvent]:
        return queryset.filter(
            pk__in=LifeEventStep.objects.filter(service_id=value).values("event")
        )

    def filter_agency(
        self, queryset: QuerySet[LifeEvent], name: str, value: str
    ) -> QuerySet[LifeEvent]:
        steps = LifeEventStep.objects.filter(service__agency__slug=value)
        return queryset.filter(pk__in=steps.values("event"))


@extend_schema_view(
    list=extend_schema(summary=_("Life and business events (published journeys)")),
    retrieve=extend_schema(summary=_("A life or business event with its steps")),
)
class LifeEventViewSet(
    ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[LifeEvent]
):
    """Published life and business events, looked up by slug."""

    serializer_class = LifeEventSerializer
    pagination_class = StableCursorPagination
    filterset_class = LifeEventFilter
    lookup_field = "slug"
    # Adding, moving or removing a step touches the event (lifeevents.services._touch).
    modified_fields = ("updated_at", "steps__service__updated_at")

    def get_queryset(self) -> QuerySet[LifeEvent]:
        return life_events_with_steps()
