from typing import Any

from django.contrib import admin

from agencies.policy_admin import PolicyScopedAdmin
from services.models import ConsultationComment, Service, StandardVersion


@admin.register(Service)
class ServiceAdmin(PolicyScopedAdmin):
    list_display = ("name", "agency", "unit", "category")
    list_filter = ("category", "agency")
    search_fields = ("name", "keywords")


@admin.register(StandardVersion)
class StandardVersionAdmin(PolicyScopedAdmin):
    list_display = ("service", "number", "status", "published_at", "next_review_date")
    list_filter = ("status",)
    policy_agency_field = "service__agency"
    policy_unit_field = "service__unit"

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        # A published version never changes; drafts are edited in the staff area.
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)


@admin.register(ConsultationComment)
class ConsultationCommentAdmin(PolicyScopedAdmin):
    list_display = ("version", "created_at")
    policy_agency_field = "version__service__agency"
    policy_unit_field = "version__service__unit"
