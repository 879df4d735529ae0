from django.contrib import admin

from agencies.policy_admin import PolicyScopedAdmin
from charter.models import Charter


@admin.register(Charter)
class CharterAdmin(PolicyScopedAdmin):
    list_display = ("unit", "number", "status", "signed_on")
    list_filter = ("status",)
    policy_agency_field = "unit__agency"
    policy_unit_field = "unit"
