"""The methods are data: superusers and ombudsman reviewers (with the admin's staff flag)
edit dimensions, weights, indicators and bands here. Assessments are changed through the
staff pages only (their published results are frozen), so the admin shows them read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from agencies.policy import Action, grant_for
from compliance.models import Assessment, AssessmentMethod, Band, Dimension, Indicator


def _may_edit_methods(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active and (user.is_superuser or grant_for(user, Action.DECIDE_BREACH).everywhere)
    )


class _MethodDataAdmin(SimpleHistoryAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_edit_methods(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _may_edit_methods(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)


class _Inline(admin.TabularInline):
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_edit_methods(request)


class DimensionInline(_Inline):
    model = Dimension
    fields = ("position", "code", "title_id", "title_en", "weight", "weight_sourced")


class BandInline(_Inline):
    model = Band
    fields = ("scale", "lower", "grade", "zone", "label_id", "label_en", "sourced")


class IndicatorInline(_Inline):
    model = Indicator
    fields = (
        "position",
        "code",
        "title_id",
        "title_en",
        "kind",
        "computation",
        "weight",
        "count_expected",
    )


@admin.register(AssessmentMethod)
class AssessmentMethodAdmin(_MethodDataAdmin):
    list_display = ("code", "version", "title_id", "year_from", "year_to")
    inlines = [DimensionInline, BandInline]


@admin.register(Dimension)
class DimensionAdmin(_MethodDataAdmin):
    list_display = ("method", "code", "title_id", "weight")
    list_filter = ("method",)
    inlines = [IndicatorInline]


@admin.register(Assessment)
class AssessmentAdmin(_MethodDataAdmin):
    list_display = ("agency", "unit", "period", "method", "state", "score", "grade", "zone")
    list_filter = ("state", "method", "period")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
