"""API for citizen charters (maklumat pelayanan).

Everyone sees published, superseded and withdrawn charters; staff who may view an
agency's private data also see its drafts. Writes (create and update a draft, publish,
new version, withdraw) are thin adapters over charter/services.py, which asks the
permission policy; a charter the user may not see privately answers 404 to a write.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
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
from charter.models import Charter, CharterStatus
from charter.selectors import charter_list_for_staff, charter_list_visible
from charter.services import (
    CHARTER_FIELDS,
    charter_draft_create,
    charter_draft_update,
    charter_new_version,
    charter_publish,
    charter_withdraw,
)
from core.api_conventions import ConditionalGetMixin, ReadThrottleMixin, StableCursorPagination
from core.api_parsers import SafeJSONParser
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
            "decree_number",
            "sanction_statement",
            "services",
            "published_at",
            "superseded_at",
            "withdrawn_at",
            "withdrawn_reason",
        ]
        read_only_fields = fields


class CharterWriteSerializer(serializers.ModelSerializer[Charter]):
    """The content of a draft charter. On update every field is optional."""

    services = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Service.objects.all(),
        required=False,
        help_text=_("Ids of the services the charter covers (the unit's agency's own)."),
    )

    class Meta:
        model = Charter
        fields = [*CHARTER_FIELDS, "services"]
        extra_kwargs = {"decree_number": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Checked here too (the model's constraint says the same) so that it is a field error.
        if attrs.get("compensation_cap") and not attrs.get(
            "compensation_per_day", getattr(self.instance, "compensation_per_day", None)
        ):
            raise serializers.ValidationError(
                {"compensation_cap": [_("A cap needs an amount per day of delay.")]}
            )
        return attrs


class CharterCreateSerializer(CharterWriteSerializer):
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), help_text=_("Id of the unit whose charter this is.")
    )

    class Meta(CharterWriteSerializer.Meta):
        fields = ["unit", *CharterWriteSerializer.Meta.fields]


class WithdrawSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, help_text=_("Why the charter is withdrawn."))


class CharterFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(field_name="unit__agency__slug", help_text=_("Agency slug."))
    unit = IntegerFilter(field_name="unit_id", help_text=_("Unit id."))
    status = django_filters.ChoiceFilter(choices=CharterStatus.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"),), help_text=_("Order of the list; default: id.")
    )

    class Meta:
        model = Charter
        fields = ["agency", "unit", "status"]


def _with_content(charters: QuerySet[Charter]) -> QuerySet[Charter]:
    return charters.select_related("unit__agency").prefetch_related(
        Prefetch("services", queryset=Service.objects.select_related("agency").order_by("name"))
    )


@extend_schema_view(
    list=extend_schema(summary=_("Citizen charters")),
    retrieve=extend_schema(summary=_("A citizen charter")),
    create=extend_schema(
        summary=_("Draft a charter for a unit"),
        request=CharterCreateSerializer,
        responses={201: CharterSerializer},
    ),
    partial_update=extend_schema(
        summary=_("Change a draft charter"),
        request=CharterWriteSerializer,
        responses=CharterSerializer,
    ),
)
class CharterViewSet(
    ReadThrottleMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Charter],
):
    serializer_class = CharterSerializer
    filterset_class = CharterFilter
    pagination_class = StableCursorPagination
    modified_fields = ("updated_at", "unit__updated_at", "services__updated_at")
    parser_classes = [SafeJSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Charter]:
        user = self.request.user
        if self.request.method in permissions.SAFE_METHODS:
            base = charter_list_visible(user=user)
        else:
            base = charter_list_for_staff(user=user)
        return _with_content(base).order_by("unit__agency__name", "unit__name", "-number")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS:
            # Every body is checked (size, depth, control characters) before any lookup, so
            # a malformed body is refused the same way whatever the charter id.
            request.data  # noqa: B018

    def _respond(self, charter: Charter, code: int = status.HTTP_200_OK) -> Response:
        detail = _with_content(Charter.objects.filter(pk=charter.pk)).get()
        return Response(CharterSerializer(detail).data, status=code)

    def create(self, request: Request) -> Response:
        serializer = CharterCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        charter = charter_draft_create(
            unit=fields.pop("unit"),
            services=fields.pop("services", []),
            acting_user=request.user,
            **fields,
        )
        return self._respond(charter, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        charter = self.get_object()
        serializer = CharterWriteSerializer(charter, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        charter = charter_draft_update(
            charter=charter,
            services=fields.pop("services", None),
            acting_user=request.user,
            **fields,
        )
        return self._respond(charter)

    @extend_schema(summary=_("Publish a draft charter"), request=None, responses=CharterSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def publish(self, request: Request, pk: str | None = None) -> Response:
        charter = charter_publish(charter=self.get_object(), acting_user=request.user)
        return self._respond(charter)

    @extend_schema(
        summary=_("Start a new draft from this charter"),
        request=None,
        responses={201: CharterSerializer},
    )
    @action(detail=True, methods=["post"], url_path="new-version", filterset_class=None)
    def new_version(self, request: Request, pk: str | None = None) -> Response:
        charter = charter_new_version(charter=self.get_object(), acting_user=request.user)
        return self._respond(charter, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Withdraw the published charter"),
        request=WithdrawSerializer,
        responses=CharterSerializer,
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        charter = self.get_object()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        charter = charter_withdraw(
            charter=charter, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return self._respond(charter)
