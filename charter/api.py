"""Read-only API for citizen charters (maklumat pelayanan).

Everyone sees published and superseded charters; staff who may view an
agency's private data also see its drafts.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from agencies.api import (
    AgencySummarySerializer,
    NamedChoiceField,
    UnitSummarySerializer,
)
from agencies.models import Agency
from charter.models import Charter, CharterStatus
from charter.selectors import charter_list_visible
from services.api import IntegerFilter
from services.models import Service


class CharterServiceSerializer(serializers.ModelSerializer[Service]):
    agency = serializers.SlugRelatedField[Agency](slug_field="slug", read_only=True)

    class Meta:
        model = Service
        fields = ["id", "slug", "name", "agency"]
        read_only_fields = fields


class CharterSerializer(serializers.ModelSerializer[Charter]):
    status = NamedChoiceField(CharterStatus, read_only=True)
    unit = UnitSummarySerializer(read_only=True)
    agency = AgencySummarySerializer(source="unit.agency", read_only=True)
    services = CharterServiceSerializer(many=True, read_only=True)

    class Meta:
        model = Charter
        fields = [
            "id",
            "number",
            "status",
            "agency",
            "unit",
            "pledge",
            "signatory_name",
            "signatory_title",
            "signed_on",
            "compensation_per_day",
            "compensation_cap",
            "services",
            "published_at",
            "superseded_at",
        ]
        read_only_fields = fields


class CharterFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(field_name="unit__agency__slug", help_text=_("Agency slug."))
    unit = IntegerFilter(field_name="unit_id", help_text=_("Unit id."))
    status = django_filters.ChoiceFilter(choices=CharterStatus.choices)

    class Meta:
        model = Charter
        fields = ["agency", "unit", "status"]


class CharterViewSet(viewsets.ReadOnlyModelViewSet[Charter]):
    serializer_class = CharterSerializer
    filterset_class = CharterFilter

    def get_queryset(self) -> QuerySet[Charter]:
        return (
            charter_list_visible(user=self.request.user)
            .select_related("unit__agency")
            .prefetch_related(
                Prefetch(
                    "services",
                    queryset=Service.objects.select_related("agency").order_by("name"),
                )
            )
            .order_by("unit__agency__name", "unit__name", "-number")
        )
