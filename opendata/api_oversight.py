"""Public reads of /api/v1/ for accountability: complaint statistics per unit and service,
the ombudsman's published findings with their corrective actions, and the published
compliance assessments.

Each shows exactly what the public pages show, from the selectors they use:
- complaint statistics are counts and times (feedback.complaints.selectors.complaint_figures),
  never a complaint's text, its complainant or whether it was confidential;
- findings are final ones only (cases.selectors.published_findings), anonymised by
  construction: outcome, categories, the published summary, the actions' text, deadline and
  state; never internal notes, the agency's response, breaches or anyone's identity;
- assessments are published (frozen) ones only (compliance.selectors.published): method,
  score, grade, zone, labels and each dimension's score; never a draft, a reviewer's note
  or evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agencies.api import (
    AgencySummarySerializer,
    NamedChoiceField,
    NamedChoiceFieldExtension,
    UnitSummarySerializer,
)
from agencies.models import Unit
from cases.models import CorrectiveAction, Finding, Outcome
from cases.selectors import published_findings
from compliance.models import Assessment, AssessmentMethod, DimensionResult
from compliance.selectors import published
from core.api_conventions import (
    ConditionalGetMixin,
    ReadThrottleMixin,
    StableCursorPagination,
    make_etag,
)
from feedback.complaints.models import ComplaintCategory
from feedback.complaints.selectors import ComplaintFigures, complaint_figures
from opendata.api import _answer, _PublicRead
from oversight.models import Maladministration
from services.api import BoundedDateTimeFilter, IntegerFilter
from services.models import Service
from services.selectors import service_list_visible

# --- Complaint statistics --------------------------------------------------------------------


class ComplaintQuerySerializer(serializers.Serializer[Any]):
    since = serializers.DateField(
        required=False, help_text=_("Only complaints received on or after this day.")
    )
    until = serializers.DateField(
        required=False, help_text=_("Only complaints received on or before this day.")
    )

    def _in_range(self, value: dt.date) -> dt.date:
        if value.year < 2000 or value > timezone.localdate() + dt.timedelta(days=366):
            raise serializers.ValidationError(_("A date from 2000 to a year from now."))
        return value

    def validate_since(self, value: dt.date) -> dt.date:
        return self._in_range(value)

    def validate_until(self, value: dt.date) -> dt.date:
        return self._in_range(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since > until:
            raise serializers.ValidationError({"until": [_("On or after since.")]})
        return attrs


def received_period(query: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    """The days asked for (`since`, `until`, inclusive), or None for every complaint."""
    if "since" not in query and "until" not in query:
        return None
    return query.get("since") or dt.date(2000, 1, 1), query.get("until") or timezone.localdate()


class CategoryCountSerializer(serializers.Serializer[Any]):
    category = NamedChoiceField(ComplaintCategory)
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField(min_value=0)


class ComplaintStatisticsSerializer(serializers.Serializer[Any]):
    scope = serializers.ChoiceField(choices=["service", "unit"])
    id = serializers.IntegerField()
    since = serializers.DateField(allow_null=True, help_text=_("As asked; null: from the start."))
    until = serializers.DateField(allow_null=True, help_text=_("As asked; null: until now."))
    received = serializers.IntegerField(min_value=0, help_text=_("Complaints received."))
    by_category = CategoryCountSerializer(many=True, help_text=_("Every category, in order."))
    verified_in_time = serializers.FloatField(
        allow_null=True,
        help_text=_("Share (0 to 1) verified by their deadline; null: none due yet."),
    )
    answered_in_time = serializers.FloatField(
        allow_null=True,
        help_text=_("Share (0 to 1) first answered by their deadline; null: none due yet."),
    )
    median_answer_days = serializers.FloatField(
        allow_null=True, help_text=_("Median days from receipt to the first answer.")
    )
    reopened = serializers.FloatField(
        allow_null=True, help_text=_("Share (0 to 1) of the answered ones reopened.")
    )


def complaint_statistics_data(
    *, scope: str, pk: int, figures: ComplaintFigures, period: tuple[dt.date, dt.date] | None
) -> dict[str, Any]:
    return {
        "scope": scope,
        "id": pk,
        "since": None if period is None else period[0],
        "until": None if period is None else period[1],
        "received": figures.received,
        "by_category": [
            {"category": value, "label": label, "count": count}
            for value, (label, count) in zip(
                ComplaintCategory.values, figures.by_category, strict=True
            )
        ],
        "verified_in_time": figures.verified_in_time,
        "answered_in_time": figures.answered_in_time,
        "median_answer_days": figures.median_answer_days,
        "reopened": figures.reopened,
    }


class ServiceComplaintsView(_PublicRead):
    @extend_schema(
        summary=_("Complaint statistics of a service"),
        parameters=[ComplaintQuerySerializer],
        responses=ComplaintStatisticsSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        period = received_period(self._query(ComplaintQuerySerializer))
        service = get_object_or_404(service_list_visible(user=request.user), pk=pk)
        data = complaint_statistics_data(
            scope="service",
            pk=service.pk,
            figures=complaint_figures(service=service, received=period),
            period=period,
        )
        return _answer(request, ComplaintStatisticsSerializer(data).data)


class UnitComplaintsView(_PublicRead):
    @extend_schema(
        summary=_("Complaint statistics of a service unit"),
        parameters=[ComplaintQuerySerializer],
        responses=ComplaintStatisticsSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        period = received_period(self._query(ComplaintQuerySerializer))
        unit = get_object_or_404(Unit.objects.filter(is_active=True), pk=pk)
        data = complaint_statistics_data(
            scope="unit",
            pk=unit.pk,
            figures=complaint_figures(unit=unit, received=period),
            period=period,
        )
        return _answer(request, ComplaintStatisticsSerializer(data).data)


# --- Published findings ----------------------------------------------------------------------


# Where a corrective action stands, as the public page says it
# (cases.models.CorrectiveAction.public_state).
PUBLIC_ACTION_STATES = ("open", "overdue", "done_on_time", "done_late", "recommendation")


class CategorySerializer(serializers.Serializer[Any]):
    code = NamedChoiceField(Maladministration)
    label = serializers.CharField()  # type: ignore[assignment]


class FindingActionSerializer(serializers.ModelSerializer[CorrectiveAction]):
    state = serializers.SerializerMethodField(
        help_text=_(
            "open, overdue, done_on_time, done_late, or recommendation (raised to a binding "
            "recommendation)."
        )
    )

    class Meta:
        model = CorrectiveAction
        fields = ["id", "text", "due_at", "state"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": list(PUBLIC_ACTION_STATES)})
    def get_state(self, obj: CorrectiveAction) -> str:
        return obj.public_state(self.context.get("now"))


class FindingServiceSerializer(serializers.ModelSerializer[Service]):
    class Meta:
        model = Service
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class FindingOutcomeField(NamedChoiceField):
    """`Outcome` names another choice set too (the requests' outcomes in delivery)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Outcome, **kwargs)
        self.enum_name = "FindingOutcomeEnum"


class FindingOutcomeFieldExtension(NamedChoiceFieldExtension):
    target_class = FindingOutcomeField  # type: ignore[assignment]


class FindingSerializer(serializers.ModelSerializer[Finding]):
    outcome = FindingOutcomeField(read_only=True)
    categories = serializers.SerializerMethodField(
        help_text=_("Maladministration categories (when found).")
    )
    summary = serializers.SerializerMethodField(
        help_text=_("The published, anonymised summary (empty when the examination stopped).")
    )
    agency = AgencySummarySerializer(source="case.agency", read_only=True)
    unit = UnitSummarySerializer(source="case.unit", read_only=True)
    service = FindingServiceSerializer(source="case.service", read_only=True, allow_null=True)
    actions = FindingActionSerializer(many=True, read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "outcome",
            "categories",
            "summary",
            "final_at",
            "agency",
            "unit",
            "service",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CategorySerializer(many=True))
    def get_categories(self, obj: Finding) -> list[dict[str, str]]:
        labels = dict(Maladministration.choices)
        return [
            {"code": value, "label": str(labels[value])}
            for value in obj.categories
            if value in labels
        ]

    def get_summary(self, obj: Finding) -> str:
        return "" if obj.outcome == Outcome.STOPPED else obj.summary


class FindingFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(field_name="case__agency__slug", help_text=_("Agency slug."))
    unit = IntegerFilter(field_name="case__unit_id", min_value=1, help_text=_("Unit id."))
    service = IntegerFilter(field_name="case__service_id", min_value=1, help_text=_("Service id."))
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    final_since = BoundedDateTimeFilter(
        field_name="final_at", lookup_expr="gte", help_text=_("Made final at or after.")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("final_at", "final_at")),
        help_text=_("Order of the list (the id breaks ties); default: id."),
    )

    class Meta:
        model = Finding
        fields = ["agency", "unit", "service", "outcome"]


@extend_schema_view(
    list=extend_schema(summary=_("The ombudsman's published findings with corrective actions")),
    retrieve=extend_schema(summary=_("A published finding with its corrective actions")),
)
class FindingViewSet(
    ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[Finding]
):
    """Final findings (LAHP) of the ombudsman's cases, anonymised."""

    serializer_class = FindingSerializer
    pagination_class = StableCursorPagination
    filterset_class = FindingFilter
    modified_fields = ("final_at", "actions__updated_at", "case__unit__updated_at")

    def _overdue_marker(self, queryset: QuerySet[Finding]) -> int:
        # An action turns overdue when its deadline passes, with no row changing: count
        # the actions past their deadline so that the ETag moves then too.
        return CorrectiveAction.objects.filter(
            finding__in=queryset.values("pk"), due_at__lt=timezone.now()
        ).count()

    def list_validators(self, queryset: QuerySet[Any]) -> tuple[str, dt.datetime | None]:
        etag, last = super().list_validators(queryset)
        return make_etag(etag, self._overdue_marker(queryset)), last

    def detail_validators(self, obj_filter: dict[str, Any]) -> tuple[str, dt.datetime | None]:
        etag, last = super().detail_validators(obj_filter)
        queryset = self.get_queryset().filter(**obj_filter)
        return make_etag(etag, self._overdue_marker(queryset)), last

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self) -> QuerySet[Finding]:
        return published_findings()


# --- Published assessments -------------------------------------------------------------------


class MethodSummarySerializer(serializers.ModelSerializer[AssessmentMethod]):
    title = serializers.CharField(read_only=True, help_text=_("In the request's language."))

    class Meta:
        model = AssessmentMethod
        fields = ["code", "version", "title", "year_from", "year_to"]
        read_only_fields = fields


class DimensionScoreSerializer(serializers.ModelSerializer[DimensionResult]):
    title = serializers.CharField(read_only=True)
    weight = serializers.DecimalField(
        max_digits=7, decimal_places=4, read_only=True, help_text=_("Weight, in percent.")
    )
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = DimensionResult
        fields = ["code", "title", "weight", "score"]
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer[Assessment]):
    method = MethodSummarySerializer(read_only=True)
    agency = AgencySummarySerializer(read_only=True)
    unit = UnitSummarySerializer(read_only=True, allow_null=True)
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, allow_null=True
    )
    coverage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("Share of the weight with data, in percent."),
    )
    grade = serializers.CharField(read_only=True, help_text=_("A to E, or empty."))
    zone = serializers.CharField(read_only=True, help_text=_("green, yellow, red, or empty."))
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text=_("The opinion or grade's label.")
    )
    potential = serializers.CharField(
        read_only=True, help_text=_("Maladministration potential (2025 method), or empty.")
    )
    dimensions = DimensionScoreSerializer(source="dimension_results", many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "period",
            "starts_on",
            "ends_on",
            "method",
            "agency",
            "unit",
            "score",
            "coverage",
            "grade",
            "zone",
            "label",
            "potential",
            "published_at",
            "dimensions",
        ]
        read_only_fields = fields


class AssessmentFilter(django_filters.FilterSet):
    agency = django_filters.CharFilter(field_name="agency__slug", help_text=_("Agency slug."))
    unit = IntegerFilter(field_name="unit_id", min_value=1, help_text=_("Unit id."))
    level = django_filters.ChoiceFilter(
        choices=(("agency", _("Agency")), ("unit", _("Unit"))),
        method="filter_level",
        help_text=_("agency: assessments of whole agencies; unit: of units."),
    )
    period = django_filters.CharFilter(field_name="period", help_text=_("E.g. 2025."))
    method = django_filters.CharFilter(
        field_name="method__code", help_text=_("Method code, e.g. opini-2025.")
    )
    zone = django_filters.ChoiceFilter(
        choices=(("green", _("Green")), ("yellow", _("Yellow")), ("red", _("Red")))
    )
    ordering = django_filters.OrderingFilter(
        # Not by score: a cursor cannot mark its place on a null score.
        fields=(("id", "id"), ("period", "period")),
        help_text=_("Order of the list (the id breaks ties); default: id."),
    )

    class Meta:
        model = Assessment
        fields = ["agency", "unit", "period", "zone"]

    def filter_level(
        self, queryset: QuerySet[Assessment], name: str, value: str
    ) -> QuerySet[Assessment]:
        return queryset.filter(unit__isnull=value == "agency")


@extend_schema_view(
    list=extend_schema(summary=_("Published compliance assessments (the ombudsman's opinion)")),
    retrieve=extend_schema(summary=_("A published compliance assessment with its dimensions")),
)
class AssessmentViewSet(
    ReadThrottleMixin, ConditionalGetMixin, viewsets.ReadOnlyModelViewSet[Assessment]
):
    """Published assessments: frozen at publication, so their ETag moves only when one is
    published."""

    serializer_class = AssessmentSerializer
    pagination_class = StableCursorPagination
    filterset_class = AssessmentFilter
    modified_fields = ("published_at",)

    def get_queryset(self) -> QuerySet[Assessment]:
        return (
            published()
            .select_related("method", "agency", "unit")
            .prefetch_related(
                Prefetch(
                    "dimension_results",
                    queryset=DimensionResult.objects.order_by("position", "pk"),
                )
            )
        )
