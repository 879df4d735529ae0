"""Composed public reads of /api/v1/: performance figures and survey (SKM) results.

They read several apps (services, delivery, feedback), so they live here at the top of the
floor plan, beside the other open-data documents. Every figure comes from the selectors
the public pages use (delivery.selectors, feedback.selectors, feedback.skm): the API shows
what the pages show, computed in one place.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Unit
from core.api_conventions import ReadThrottleMixin, conditional, make_etag, stamp
from delivery.selectors import (
    MonthFigures,
    PerformanceFigures,
    PeriodFigures,
    months_before,
    performance_by_month,
    performance_figures,
    performance_periods,
)
from feedback.selectors import PeriodResult, skm_periods
from services.models import Service
from services.selectors import service_list_visible

MAX_MONTHS = 36


# --- Query parameters ----------------------------------------------------------------------
class PerformanceQuerySerializer(serializers.Serializer[Any]):
    until = serializers.DateField(
        required=False,
        help_text=_("Last day of the period (default: today)."),
    )
    months = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_MONTHS,
        default=12,
        help_text=_("Length of the period in months, ending with `until`."),
    )

    def validate_until(self, value: dt.date) -> dt.date:
        if value.year < 2000 or value > timezone.localdate() + dt.timedelta(days=366):
            raise serializers.ValidationError(_("A date from 2000 to a year from now."))
        return value


class SkmQuerySerializer(serializers.Serializer[Any]):
    service = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only the answers about this service (id).")
    )


# --- Output --------------------------------------------------------------------------------
class PeriodFiguresSerializer(serializers.Serializer[Any]):
    months = serializers.IntegerField()
    since = serializers.DateField()
    until = serializers.DateField()
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    rate_withheld = serializers.CharField(
        help_text=_('Why the rate is null: "no_data", "small_sample", or "" when shown.')
    )


class MonthFiguresSerializer(serializers.Serializer[Any]):
    month = serializers.DateField(help_text=_("First day of the month."))
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)


class PerformanceSerializer(serializers.Serializer[Any]):
    scope = serializers.ChoiceField(choices=["service", "unit"])
    id = serializers.IntegerField()
    since = serializers.DateField()
    until = serializers.DateField()
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(
        allow_null=True,
        help_text=_("Share completed on time, withheld (null) below the minimum sample."),
    )
    rate_withheld = serializers.CharField()
    min_sample = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True)
    p90_days = serializers.FloatField(allow_null=True)
    overcharged = serializers.IntegerField()
    open = serializers.IntegerField()
    open_overdue = serializers.IntegerField()
    promise_value = serializers.IntegerField(allow_null=True)
    promise_unit = serializers.CharField()
    periods = PeriodFiguresSerializer(many=True, help_text=_("The last 3, 6 and 12 months."))
    by_month = MonthFiguresSerializer(many=True)


class ElementSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text=_("U1..U9 (PermenPANRB 14/2017)."))
    name = serializers.CharField()
    nrr = serializers.DecimalField(max_digits=4, decimal_places=2)


class ChannelResultSerializer(serializers.Serializer[Any]):
    channel = serializers.CharField()
    respondents = serializers.IntegerField()
    converted_index = serializers.DecimalField(max_digits=5, decimal_places=2)
    grade = serializers.CharField()


class SkmPeriodSerializer(serializers.Serializer[Any]):
    period = serializers.CharField(help_text=_("A quarter, e.g. 2026-Q4."))
    respondents = serializers.IntegerField()
    population = serializers.IntegerField(
        help_text=_("Requests completed in the period (0: none recorded).")
    )
    required_sample = serializers.IntegerField(help_text=_("Krejcie and Morgan."))
    sample_reached = serializers.BooleanField(allow_null=True)
    ikm = serializers.DecimalField(max_digits=6, decimal_places=4)
    converted_index = serializers.DecimalField(max_digits=5, decimal_places=2)
    grade = serializers.CharField(help_text=_("A, B, C or D, read from the converted index."))
    elements = ElementSerializer(many=True)
    by_channel = ChannelResultSerializer(many=True)


class SkmSerializer(serializers.Serializer[Any]):
    unit = serializers.IntegerField()
    service = serializers.IntegerField(allow_null=True)
    periods = SkmPeriodSerializer(many=True, help_text=_("Oldest first."))


def _period(figures: PeriodFigures) -> dict[str, Any]:
    return {
        "months": figures.months,
        "since": figures.since,
        "until": figures.until,
        "completed": figures.completed,
        "on_time": figures.on_time,
        "on_time_rate": figures.on_time_rate,
        "rate_withheld": figures.rate_withheld,
    }


def _month(figures: MonthFigures) -> dict[str, Any]:
    return {
        "month": figures.month,
        "completed": figures.completed,
        "on_time": figures.on_time,
        "on_time_rate": figures.on_time_rate,
    }


def performance_data(
    *, scope: str, service: Service | None, unit: Unit | None, until: dt.date, months: int
) -> dict[str, Any]:
    since = months_before(until, months)
    figures: PerformanceFigures = performance_figures(
        service=service, unit=unit, since=since, until=until
    )
    return {
        "scope": scope,
        "id": (service or unit).pk,  # type: ignore[union-attr]
        "since": figures.since,
        "until": figures.until,
        "completed": figures.completed,
        "on_time": figures.on_time,
        "on_time_rate": figures.on_time_rate,
        "rate_withheld": figures.rate_withheld,
        "min_sample": figures.min_sample,
        "median_days": figures.median_days,
        "p90_days": figures.p90_days,
        "overcharged": figures.overcharged,
        "open": figures.open,
        "open_overdue": figures.open_overdue,
        "promise_value": figures.promise_value,
        "promise_unit": figures.promise_unit,
        "periods": [
            _period(p) for p in performance_periods(service=service, unit=unit, until=until)
        ],
        "by_month": [
            _month(m)
            for m in performance_by_month(service=service, unit=unit, until=until, months=months)
        ],
    }


def skm_period_data(period: PeriodResult) -> dict[str, Any]:
    result = period.result
    return {
        "period": period.period,
        "respondents": result.respondents,
        "population": period.population,
        "required_sample": period.required_sample,
        "sample_reached": period.sample_reached,
        "ikm": result.ikm_shown,
        "converted_index": result.converted_shown,
        "grade": result.grade,
        "elements": [
            {"code": row.element.code, "name": str(row.element.name), "nrr": row.nrr}
            for row in period.elements
        ],
        "by_channel": [
            {
                "channel": channel.channel,
                "respondents": channel.respondents,
                "converted_index": channel.result.converted_shown,
                "grade": channel.result.grade,
            }
            for channel in period.by_channel
        ],
    }


def _answer(request: Request, data: Any) -> Response:
    """The body's own hash is its ETag: the figures are computed (and cached by the
    selectors), so a matching conditional GET saves the transfer, not the arithmetic."""
    body = json.dumps(data, sort_keys=True, default=str)
    etag = make_etag(request.path, get_language(), body)
    if (early := conditional(request, etag, None)) is not None:
        return early
    return stamp(Response(data), etag, None)


class _PublicRead(ReadThrottleMixin, APIView):
    def _query(self, serializer_class: type[serializers.Serializer[Any]]) -> dict[str, Any]:
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)


class ServicePerformanceView(_PublicRead):
    @extend_schema(
        summary=_("Performance figures of a service"),
        parameters=[PerformanceQuerySerializer],
        responses=PerformanceSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        query = self._query(PerformanceQuerySerializer)
        service = get_object_or_404(service_list_visible(user=request.user), pk=pk)
        data = performance_data(
            scope="service",
            service=service,
            unit=None,
            until=query.get("until") or timezone.localdate(),
            months=query["months"],
        )
        return _answer(request, PerformanceSerializer(data).data)


class UnitPerformanceView(_PublicRead):
    @extend_schema(
        summary=_("Performance figures of a service unit"),
        parameters=[PerformanceQuerySerializer],
        responses=PerformanceSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        query = self._query(PerformanceQuerySerializer)
        unit = get_object_or_404(Unit.objects.filter(is_active=True), pk=pk)
        data = performance_data(
            scope="unit",
            service=None,
            unit=unit,
            until=query.get("until") or timezone.localdate(),
            months=query["months"],
        )
        return _answer(request, PerformanceSerializer(data).data)


class UnitSkmView(_PublicRead):
    @extend_schema(
        summary=_("Satisfaction survey (SKM) results of a service unit, per quarter"),
        parameters=[SkmQuerySerializer],
        responses=SkmSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        query = self._query(SkmQuerySerializer)
        unit = get_object_or_404(Unit.objects.filter(is_active=True), pk=pk)
        service = None
        if "service" in query:
            service = get_object_or_404(
                service_list_visible(user=request.user).filter(unit=unit), pk=query["service"]
            )
        periods = skm_periods(unit=unit, service=service)
        data = {
            "unit": unit.pk,
            "service": None if service is None else service.pk,
            "periods": [skm_period_data(p) for p in periods],
        }
        return _answer(request, SkmSerializer(data).data)
