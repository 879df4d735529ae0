from django.contrib import admin

from agencies.policy_admin import PolicyScopedAdmin
from oversight.models import Breach, BreachRule, EscalationPolicy, SweepError, SweepRun


@admin.register(Breach)
class BreachAdmin(PolicyScopedAdmin):
    list_display = (
        "kind",
        "subject_type",
        "subject_id",
        "agency",
        "status",
        "severity",
        "occurred_at",
    )
    list_filter = ("kind", "status", "severity")


@admin.register(BreachRule)
class BreachRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "agency", "is_active", "settings")
    list_filter = ("kind", "is_active")


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "succeeded", "examined", "created", "error_count")


@admin.register(SweepError)
class SweepErrorAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject_id", "message")
    list_filter = ("kind",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "agency",
        "unit_head_after_days",
        "agency_head_after_days",
        "ombudsman_after_days",
    ]
