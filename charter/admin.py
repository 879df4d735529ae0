from django.contrib import admin

from charter.models import Charter
from core.admin import PolicyScopedAdmin


@admin.register(Charter)
class CharterAdmin(PolicyScopedAdmin):
    list_display = ("unit", "number", "status", "signed_on")
    list_filter = ("status",)
    policy_agency_field = "unit__agency"
    policy_unit_field = "unit"
