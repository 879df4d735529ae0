"""Read-only API for agencies (penyelenggara) and their units (unit pelayanan).

Agencies and units are public information: everyone, anonymous included, may
read them. Internal contact addresses (where breach notices go, the heads'
e-mail addresses) are not part of the API.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from rest_framework import serializers, viewsets

from agencies.models import Agency, AgencyLevel, Unit
from agencies.selectors import agency_list_public
from core.api import OptionalEmailField, OptionalURLField
from core.api_conventions import ConditionalGetMixin, ReadThrottleMixin, StableCursorPagination


class ClockTimeField(serializers.TimeField):
    """A time of day as "HH:MM" (service hours). JSON Schema's `time` format is RFC 3339's
    full-time, with seconds and a UTC offset, which a local opening hour does not have."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class ClockTimeFieldExtension(OpenApiSerializerFieldExtension):
    target_class = ClockTimeField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        return {
            "type": "string",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
            "example": "08:00",
            "description": str(_("Local time of the unit, HH:MM.")),
        }


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose choice set has one name in the OpenAPI schema.

    The same choice set appears under several field names (time units) and one
    field name carries several choice sets (`status`): naming the set after its
    Choices class keeps the schema free of drf-spectacular's enum-naming warnings.
    """

    def __init__(self, choices_class: type[models.Choices], **kwargs: Any) -> None:
        self.enum_name = f"{choices_class.__name__}Enum"
        super().__init__(choices=choices_class.choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        field = self.target
        schema = {
            "type": "string",
            "enum": list(field.choices),
            "description": build_choice_description_list(field.choices.items()),
        }
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema=schema,
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class AgencySummarySerializer(serializers.ModelSerializer[Agency]):
    class Meta:
        model = Agency
        fields = ["id", "slug", "name", "short_name"]
        read_only_fields = fields


class UnitSummarySerializer(serializers.ModelSerializer[Unit]):
    class Meta:
        model = Unit
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class UnitSerializer(serializers.ModelSerializer[Unit]):
    agency = AgencySummarySerializer(read_only=True)
    map_url = serializers.CharField(read_only=True)
    opens_at = ClockTimeField(read_only=True)
    closes_at = ClockTimeField(read_only=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "slug",
            "name",
            "agency",
            "parent",
            "address",
            "phone",
            "head_name",
            "head_title",
            "opens_at",
            "closes_at",
            "latitude",
            "longitude",
            "map_url",
            "is_active",
        ]
        read_only_fields = fields


class AgencyUnitSerializer(serializers.ModelSerializer[Unit]):
    """A unit as listed inside its agency (the agency itself is the parent object)."""

    opens_at = ClockTimeField(read_only=True)
    closes_at = ClockTimeField(read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "slug", "name", "address", "phone", "opens_at", "closes_at"]
        read_only_fields = fields


class AgencySerializer(serializers.ModelSerializer[Agency]):
    email = OptionalEmailField(read_only=True)
    website = OptionalURLField(read_only=True)
    units = AgencyUnitSerializer(source="active_units", many=True, read_only=True)
    published_services = serializers.IntegerField(
        read_only=True, help_text=_("Number of services with a published standard.")
    )

    class Meta:
        model = Agency
        fields = [
            "id",
            "slug",
            "name",
            "short_name",
            "level",
            "region_code",
            "region_name",
            "address",
            "phone",
            "email",
            "website",
            "head_name",
            "head_title",
            "published_services",
            "units",
        ]
        read_only_fields = fields


class AgencyFilter(django_filters.FilterSet):
    region_code = django_filters.CharFilter(
        field_name="region_code", help_text=_("Kemendagri region code, e.g. 32.73.")
    )
    level = django_filters.ChoiceFilter(field_name="level", choices=AgencyLevel.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("name", "name")), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = Agency
        fields = ["region_code", "level"]


class AgencyViewSet(ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[Agency]):
    """Agencies with their active units, looked up by slug."""

    serializer_class = AgencySerializer
    pagination_class = StableCursorPagination
    # The count of published services moves with the agency's standards.
    modified_fields = ("updated_at", "units__updated_at", "services__versions__updated_at")
    filterset_class = AgencyFilter
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Agency]:
        return agency_list_public().prefetch_related(
            Prefetch(
                "units",
                queryset=Unit.objects.filter(is_active=True).order_by("name"),
                to_attr="active_units",
            )
        )


class UnitFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(
        field_name="agency__slug", help_text=_("Slug of the agency.")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("name", "name")), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = Unit
        fields = ["agency"]


class UnitViewSet(ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[Unit]):
    """Active service units of all agencies."""

    serializer_class = UnitSerializer
    pagination_class = StableCursorPagination
    modified_fields = ("updated_at", "agency__updated_at")
    filterset_class = UnitFilter

    def get_queryset(self) -> QuerySet[Unit]:
        return (
            Unit.objects.filter(is_active=True)
            .select_related("agency")
            .order_by("agency__name", "name")
        )
