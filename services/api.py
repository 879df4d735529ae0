"""API for services (jenis pelayanan) and their standard versions (standar pelayanan).

Reads are open to everyone: the public sees final versions (published,
superseded, withdrawn); staff who may view an agency's private data also see its
drafts. Writes are thin adapters over services/services.py, which asks the
permission policy. Objects a user may not see privately answer 404 to a write,
so an outsider learns nothing about another agency's drafts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agencies.api import (
    AgencySummarySerializer,
    NamedChoiceField,
    UnitSummarySerializer,
)
from agencies.models import Agency, Unit
from core.api_conventions import (
    ConditionalGetMixin,
    ReadThrottleMixin,
    SparseFieldsMixin,
    StableCursorPagination,
    make_etag,
    sparse_fields_parameter,
)
from core.api_parsers import SafeJSONParser
from services.components import completeness
from services.models import (
    FINAL_STATUSES,
    Channel,
    ComplaintChannel,
    CostItem,
    Facility,
    ProcedureStep,
    Requirement,
    Service,
    ServiceCategory,
    StandardVersion,
    TimeUnit,
    VersionStatus,
)
from services.selectors import (
    current_version,
    service_list_for_staff,
    service_list_visible,
    service_with_current_version,
    version_list_for_staff,
    version_list_visible,
    version_with_content,
)
from services.services import (
    CHILD_FIELDS,
    CHILD_MODELS,
    CONTENT_FIELDS,
    service_create,
    standard_draft_create,
    standard_draft_update,
    standard_new_version,
    standard_publish,
    standard_submit_for_approval,
)

# --- Serializers: children ---------------------------------------------------------


class RequirementSerializer(serializers.ModelSerializer[Requirement]):
    class Meta:
        model = Requirement
        fields = list(CHILD_FIELDS["requirements"])


class ProcedureStepSerializer(serializers.ModelSerializer[ProcedureStep]):
    duration_unit = NamedChoiceField(TimeUnit, required=False)

    class Meta:
        model = ProcedureStep
        fields = list(CHILD_FIELDS["steps"])


class CostItemSerializer(serializers.ModelSerializer[CostItem]):
    class Meta:
        model = CostItem
        fields = list(CHILD_FIELDS["cost_items"])


class ComplaintChannelSerializer(serializers.ModelSerializer[ComplaintChannel]):
    class Meta:
        model = ComplaintChannel
        fields = list(CHILD_FIELDS["complaint_channels"])


class CompletenessSerializer(serializers.Serializer[Any]):
    score = serializers.IntegerField(help_text=_("Components present, out of 14."))
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    is_complete = serializers.BooleanField()
    missing = serializers.ListField(
        child=serializers.CharField(), help_text=_("Keys of the missing components.")
    )


def _completeness_data(version: StandardVersion) -> dict[str, Any]:
    report = completeness(version)
    return {
        "score": report.score,
        "total": report.total,
        "percent": report.percent,
        "is_complete": report.is_complete,
        "missing": [c.key for c in report.missing],
    }


# --- Serializers: versions (output) -----------------------------------------------


class ServiceRefSerializer(serializers.ModelSerializer[Service]):
    agency = AgencySummarySerializer(read_only=True)
    unit = UnitSummarySerializer(read_only=True)

    class Meta:
        model = Service
        fields = ["id", "slug", "name", "agency", "unit"]
        read_only_fields = fields


class VersionSummarySerializer(serializers.ModelSerializer[StandardVersion]):
    status = NamedChoiceField(VersionStatus, read_only=True)
    processing_time_unit = NamedChoiceField(TimeUnit, read_only=True)
    completeness_score = serializers.SerializerMethodField(
        help_text=_("Components present, out of 14.")
    )

    class Meta:
        model = StandardVersion
        fields = [
            "id",
            "number",
            "status",
            "change_summary",
            "processing_time_value",
            "processing_time_unit",
            "is_free",
            "total_cost",
            "decree_number",
            "decree_date",
            "effective_date",
            "next_review_date",
            "published_at",
            "superseded_at",
            "withdrawn_at",
            "completeness_score",
        ]
        read_only_fields = fields

    def get_completeness_score(self, obj: StandardVersion) -> int:
        return completeness(obj).score


class VersionContentSerializer(serializers.ModelSerializer[StandardVersion]):
    """A version with all 14 components, without its service (nested in a service)."""

    status = NamedChoiceField(VersionStatus, read_only=True)
    processing_time_unit = NamedChoiceField(TimeUnit, read_only=True)
    requirements = RequirementSerializer(many=True, read_only=True)
    steps = ProcedureStepSerializer(many=True, read_only=True)
    cost_items = CostItemSerializer(many=True, read_only=True)
    complaint_channels = ComplaintChannelSerializer(many=True, read_only=True)
    legal_basis = serializers.ListField(child=serializers.CharField(), read_only=True)
    facilities = serializers.ListField(
        child=serializers.ChoiceField(choices=Facility.choices), read_only=True
    )
    completeness = serializers.SerializerMethodField()

    class Meta:
        model = StandardVersion
        fields = [
            "id",
            "number",
            "status",
            *CONTENT_FIELDS,
            "total_cost",
            "next_review_date",
            "consultation_closes_on",
            "incomplete_acknowledged",
            "created_at",
            "updated_at",
            "submitted_at",
            "published_at",
            "superseded_at",
            "withdrawn_at",
            "withdrawn_reason",
            "requirements",
            "steps",
            "cost_items",
            "complaint_channels",
            "completeness",
        ]
        read_only_fields = fields

    @extend_schema_field(CompletenessSerializer)
    def get_completeness(self, obj: StandardVersion) -> dict[str, Any]:
        return _completeness_data(obj)


class VersionDetailSerializer(VersionContentSerializer):
    service = ServiceRefSerializer(read_only=True)

    class Meta(VersionContentSerializer.Meta):
        fields = ["service", *VersionContentSerializer.Meta.fields]
        read_only_fields = fields


# --- Serializers: services (output) -------------------------------------------------


class ServiceListSerializer(serializers.ModelSerializer[Service]):
    agency = AgencySummarySerializer(read_only=True)
    unit = UnitSummarySerializer(read_only=True)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), read_only=True
    )
    current_version = serializers.SerializerMethodField(
        help_text=_("The published version, if any.")
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "agency",
            "unit",
            "category",
            "channels",
            "keywords",
            "summary",
            "current_version",
        ]
        read_only_fields = fields

    @extend_schema_field(VersionSummarySerializer(allow_null=True))
    def get_current_version(self, obj: Service) -> dict[str, Any] | None:
        version = current_version(obj)
        return None if version is None else VersionSummarySerializer(version).data


class ServiceDetailSerializer(ServiceListSerializer):
    class Meta(ServiceListSerializer.Meta):
        fields = [*ServiceListSerializer.Meta.fields, "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(VersionContentSerializer(allow_null=True))
    def get_current_version(self, obj: Service) -> dict[str, Any] | None:
        version = current_version(obj)
        return None if version is None else VersionContentSerializer(version).data


# --- Serializers: input ---------------------------------------------------------------


class ServiceCreateSerializer(serializers.Serializer[Any]):
    agency = serializers.SlugRelatedField(
        slug_field="slug", queryset=Agency.objects.all(), help_text=_("Slug of the agency.")
    )
    unit = serializers.SlugField(
        max_length=80, help_text=_("Slug of the responsible unit within the agency.")
    )
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True)
    category = serializers.ChoiceField(
        choices=ServiceCategory.choices, default=ServiceCategory.OTHER
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False
    )
    keywords = serializers.CharField(max_length=300, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unit = Unit.objects.filter(agency=attrs["agency"], slug=attrs["unit"]).first()
        if unit is None:
            raise serializers.ValidationError({"unit": [_("This agency has no such unit.")]})
        attrs["unit"] = unit
        if "channels" in attrs:
            attrs["channels"] = list(dict.fromkeys(attrs["channels"]))
        return attrs


class VersionWriteSerializer(serializers.ModelSerializer[StandardVersion]):
    """The content of a draft: scalar components and the lists of child rows.

    Every field is optional. A child list, when given, replaces the stored rows in
    the given order.
    """

    legal_basis = serializers.ListField(child=serializers.CharField(max_length=300), required=False)
    facilities = serializers.ListField(
        child=serializers.ChoiceField(choices=Facility.choices), required=False
    )
    processing_time_unit = NamedChoiceField(TimeUnit, required=False)
    requirements = RequirementSerializer(many=True, required=False)
    steps = ProcedureStepSerializer(many=True, required=False)
    cost_items = CostItemSerializer(many=True, required=False)
    complaint_channels = ComplaintChannelSerializer(many=True, required=False)

    class Meta:
        model = StandardVersion
        fields = [*CONTENT_FIELDS, *CHILD_MODELS]

    def validate_facilities(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class PublishSerializer(serializers.Serializer[Any]):
    acknowledge_incomplete = serializers.BooleanField(
        default=False,
        help_text=_("Publish even though some of the 14 components are missing."),
    )
    decree_number = serializers.CharField(max_length=120, required=False, allow_blank=True)
    decree_date = serializers.DateField(required=False, allow_null=True)
    effective_date = serializers.DateField(required=False, allow_null=True)


def _split_content(
    validated: Mapping[str, Any], *, full: bool
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Scalar data and children for the service layer.

    `full` (PUT): what is not given goes back to its default and child lists to empty.
    """
    data = {k: v for k, v in validated.items() if k in CONTENT_FIELDS}
    children = {k: [dict(row) for row in v] for k, v in validated.items() if k in CHILD_MODELS}
    if full:
        for name in CONTENT_FIELDS:
            field = StandardVersion._meta.get_field(name)
            if name not in data and isinstance(field, models.Field):
                data[name] = field.get_default()
        for relation in CHILD_MODELS:
            children.setdefault(relation, [])
    return data, children


# --- Filters ----------------------------------------------------------------------------


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ServiceFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(field_name="agency__slug", help_text=_("Agency slug."))
    unit = IntegerFilter(field_name="unit_id", help_text=_("Unit id."))
    category = django_filters.ChoiceFilter(choices=ServiceCategory.choices)
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, method="filter_channel", help_text=_("Offered on this channel.")
    )
    free = django_filters.BooleanFilter(
        method="filter_free",
        help_text=_("true: the published standard is free of charge (or costs Rp 0)."),
    )
    max_processing_time = IntegerFilter(
        method="filter_max_processing_time",
        min_value=0,
        help_text=_(
            "The published standard promises at most this processing time, stated in "
            "processing_time_unit."
        ),
    )
    processing_time_unit = django_filters.ChoiceFilter(
        choices=TimeUnit.choices,
        method="filter_noop",
        help_text=_("Unit of max_processing_time (default: working days)."),
    )
    search = django_filters.CharFilter(
        method="filter_search", help_text=_("Words in the name, keywords or summary.")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("name", "name"), ("updated_at", "updated")),
        help_text=_("Order of the list (the id breaks ties); default: id."),
    )

    class Meta:
        model = Service
        fields = ["agency", "unit", "category"]

    def filter_noop(self, queryset: QuerySet[Service], name: str, value: str) -> QuerySet[Service]:
        return queryset

    def filter_channel(
        self, queryset: QuerySet[Service], name: str, value: str
    ) -> QuerySet[Service]:
        if connections[queryset.db].vendor == "postgresql":
            return queryset.filter(channels__contains=[value])
        # SQLite has no JSON containment: match the quoted value in the JSON text.
        return queryset.filter(channels__icontains=f'"{value}"')

    def filter_free(self, queryset: QuerySet[Service], name: str, value: bool) -> QuerySet[Service]:
        published = StandardVersion.objects.filter(
            service=OuterRef("pk"), status=VersionStatus.PUBLISHED
        )
        free = published.filter(Q(is_free=True) | Q(total_cost=0))
        return queryset.filter(Exists(free)) if value else queryset.filter(~Exists(free))

    def filter_max_processing_time(
        self, queryset: QuerySet[Service], name: str, value: int
    ) -> QuerySet[Service]:
        unit = self.form.cleaned_data.get("processing_time_unit") or TimeUnit.WORKING_DAYS
        within = StandardVersion.objects.filter(
            service=OuterRef("pk"),
            status=VersionStatus.PUBLISHED,
            processing_time_unit=unit,
            processing_time_value__lte=value,
        )
        return queryset.filter(Exists(within))

    def filter_search(
        self, queryset: QuerySet[Service], name: str, value: str
    ) -> QuerySet[Service]:
        for word in value.split()[:8]:
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(keywords__icontains=word) | Q(summary__icontains=word)
            )
        return queryset


# --- Views --------------------------------------------------------------------------------


SERVICE_LIST_FIELDS = tuple(ServiceListSerializer.Meta.fields)


@extend_schema_view(
    list=extend_schema(
        summary=_("Services"),
        responses=ServiceListSerializer,
        parameters=[sparse_fields_parameter(SERVICE_LIST_FIELDS)],
    ),
    retrieve=extend_schema(
        summary=_("A service with its published standard"), responses=ServiceDetailSerializer
    ),
)
class ServiceViewSet(
    ReadThrottleMixin,
    ConditionalGetMixin,
    SparseFieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Service],
):
    filterset_class = ServiceFilter
    pagination_class = StableCursorPagination
    sparse_fields = SERVICE_LIST_FIELDS
    # A list changes when a service, its standard, its unit or its agency does.
    modified_fields = (
        "updated_at",
        "versions__updated_at",
        "unit__updated_at",
        "agency__updated_at",
    )

    @property
    def cursor_ordering(self) -> str:
        return "-number" if self.action == "versions" else "id"

    # Nested lists of child rows only make sense in JSON.
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> QuerySet[Service]:
        user = self.request.user
        if self.request.method in permissions.SAFE_METHODS:
            base = service_list_visible(user=user)
        else:
            base = service_list_for_staff(user=user)
        return service_with_current_version(base).order_by("name", "pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "list":
            return ServiceListSerializer
        return ServiceDetailSerializer

    def _detail(self, service_id: int) -> ServiceDetailSerializer:
        service = service_with_current_version(Service.objects.filter(pk=service_id)).get()
        return ServiceDetailSerializer(service, context=self.get_serializer_context())

    @extend_schema(
        summary=_("Create a service"),
        request=ServiceCreateSerializer,
        responses={201: ServiceDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        serializer = ServiceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        service = service_create(
            agency=fields.pop("agency"),
            unit=fields.pop("unit"),
            name=fields.pop("name"),
            slug=fields.pop("slug", None) or None,
            acting_user=request.user,
            **fields,
        )
        return Response(self._detail(service.pk).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary=_("Versions of a service's standard"),
        request=None,
        responses=VersionSummarySerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary=_("Start a draft version"),
        request=VersionWriteSerializer,
        responses={201: VersionDetailSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get", "post"], url_path="versions", filterset_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        service = self.get_object()
        if request.method == "POST":
            serializer = VersionWriteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data, children = _split_content(serializer.validated_data, full=False)
            version = standard_draft_create(
                service=service, acting_user=request.user, data=data, children=children
            )
            detail = version_with_content(StandardVersion.objects.filter(pk=version.pk)).get()
            return Response(VersionDetailSerializer(detail).data, status=status.HTTP_201_CREATED)
        versions = version_with_content(
            version_list_visible(user=request.user).filter(service=service)
        ).order_by("-number")
        paginator = self.paginator
        assert paginator is not None
        page = paginator.paginate_queryset(versions, request, view=self)
        assert page is not None
        return paginator.get_paginated_response(VersionSummarySerializer(page, many=True).data)


class BoundedDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time in the years the registry can hold (a year-994 date with a
    -22:46 offset is junk to refuse with a 400, not to hand to the database)."""

    def clean(self, value: Any) -> Any:
        cleaned = super().clean(value)
        if cleaned is not None and not 2000 <= cleaned.year <= 2200:
            raise forms.ValidationError(_("A date-time in the years 2000 to 2200."))
        return cleaned


class BoundedDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedDateTimeField


class VersionFilter(django_filters.FilterSet):
    service = IntegerFilter(field_name="service_id", help_text=_("Id of the service."))
    agency = django_filters.CharFilter(
        field_name="service__agency__slug", help_text=_("Agency slug.")
    )
    status = django_filters.ChoiceFilter(choices=VersionStatus.choices)
    published_since = BoundedDateTimeFilter(
        field_name="published_at", lookup_expr="gte", help_text=_("Published at or after.")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"),), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = StandardVersion
        fields = ["service", "agency", "status"]


VERSION_LIST_FIELDS = ("service", *VersionContentSerializer.Meta.fields)


@extend_schema_view(
    list=extend_schema(
        summary=_("Standard versions with their 14 components"),
        parameters=[sparse_fields_parameter(VERSION_LIST_FIELDS)],
    ),
    retrieve=extend_schema(summary=_("A standard version with its 14 components")),
    update=extend_schema(
        summary=_("Replace a draft's content"),
        request=VersionWriteSerializer,
        responses=VersionDetailSerializer,
    ),
    partial_update=extend_schema(
        summary=_("Change part of a draft"),
        request=VersionWriteSerializer,
        responses=VersionDetailSerializer,
    ),
)
class VersionViewSet(
    ReadThrottleMixin,
    ConditionalGetMixin,
    SparseFieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[StandardVersion],
):
    serializer_class = VersionDetailSerializer
    parser_classes = [SafeJSONParser]
    filterset_class = VersionFilter
    pagination_class = StableCursorPagination
    sparse_fields = VERSION_LIST_FIELDS
    modified_fields = ("updated_at", "service__updated_at")

    def filter_queryset(self, queryset: Any) -> Any:
        # Only the list is filtered: a query string never hides the object of a write.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def detail_validators(self, obj_filter: dict[str, Any]) -> tuple[str, Any]:
        """A final version's content never changes (services.models.StandardVersion): its
        ETag is made of its identity and lifecycle state only, so it stays the same for as
        long as the version stays published (and moves once, to superseded or withdrawn)."""
        row = (
            self.get_queryset()
            .filter(**obj_filter)
            .values("pk", "service_id", "number", "status", "published_at", "updated_at")
            .first()
        )
        if row is None or row["status"] not in FINAL_STATUSES:
            return super().detail_validators(obj_filter)
        etag = make_etag(
            "version", row["pk"], row["service_id"], row["number"], row["status"], get_language()
        )
        return etag, row["published_at"]

    def get_queryset(self) -> QuerySet[StandardVersion]:
        user = self.request.user
        if self.request.method in permissions.SAFE_METHODS:
            base = version_list_visible(user=user)
        else:
            base = version_list_for_staff(user=user)
        return version_with_content(base)

    def _respond(self, version: StandardVersion, code: int = status.HTTP_200_OK) -> Response:
        detail = version_with_content(StandardVersion.objects.filter(pk=version.pk)).get()
        return Response(VersionDetailSerializer(detail).data, status=code)

    def _update(self, request: Request, *, partial: bool) -> Response:
        version = self.get_object()
        # Every field is optional, so the serializer always validates in full: DRF's
        # `partial` would also let a child row through without its required fields.
        serializer = VersionWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, children = _split_content(serializer.validated_data, full=not partial)
        version = standard_draft_update(
            version=version, acting_user=request.user, data=data, children=children
        )
        return self._respond(version)

    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=False)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, partial=True)

    @extend_schema(
        summary=_("Submit a draft for approval"),
        request=None,
        responses=VersionDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        version = standard_submit_for_approval(version=self.get_object(), acting_user=request.user)
        return self._respond(version)

    @extend_schema(
        summary=_("Publish a version"),
        request=PublishSerializer,
        responses=VersionDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        version = standard_publish(
            version=version,
            acting_user=request.user,
            acknowledge_incomplete=options["acknowledge_incomplete"],
            decree_number=options.get("decree_number"),
            decree_date=options.get("decree_date"),
            effective_date=options.get("effective_date"),
        )
        return self._respond(version)

    @extend_schema(
        summary=_("Start a new draft from this version"),
        request=None,
        responses={201: VersionDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk: str | None = None) -> Response:
        version = standard_new_version(version=self.get_object(), acting_user=request.user)
        return self._respond(version, status.HTTP_201_CREATED)
