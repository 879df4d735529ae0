from django.contrib import admin

from agencies.models import Agency, Invitation, Membership, Unit
from core.admin import PolicyScopedAdmin


@admin.register(Agency)
class AgencyAdmin(PolicyScopedAdmin):
    list_display = ("name", "level", "region_name")
    search_fields = ("name", "short_name", "region_name")
    prepopulated_fields = {"slug": ("short_name",)}
    policy_agency_field = "pk"
    policy_unit_field = None


@admin.register(Unit)
class UnitAdmin(PolicyScopedAdmin):
    list_display = ("name", "agency", "is_active")
    list_filter = ("agency",)
    search_fields = ("name",)
    policy_unit_field = "pk"


@admin.register(Membership)
class MembershipAdmin(PolicyScopedAdmin):
    list_display = ("user", "role", "agency", "unit")
    list_filter = ("role",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "agency", "role", "created_at", "accepted_at")
