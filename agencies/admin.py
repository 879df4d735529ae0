from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey
from simple_history.admin import SimpleHistoryAdmin

from agencies.calendars import calendar_day_remove, calendar_day_set, calendar_rebuild
from agencies.models import (
    Agency,
    AgencyApiKey,
    Calendar,
    CalendarException,
    Counter,
    Invitation,
    Location,
    Membership,
    Unit,
)
from agencies.policy_admin import PolicyScopedAdmin


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


@admin.register(Location)
class LocationAdmin(PolicyScopedAdmin):
    """Locations are kept on the staff pages (agencies/locations.py checks what they hold);
    here they are read, found and audited."""

    list_display = ("name", "kind", "city", "province", "host_agency", "is_active")
    list_filter = ("kind", "province")
    search_fields = ("name", "city", "province", "host_agency__name")
    policy_agency_field = "host_agency"
    policy_unit_field = None
    readonly_fields = ("facilities", "weekly_hours")


@admin.register(Counter)
class CounterAdmin(PolicyScopedAdmin):
    list_display = ("unit", "location", "label")
    search_fields = ("unit__name", "location__name")
    policy_agency_field = "unit__agency"
    policy_unit_field = "unit"


@admin.register(Membership)
class MembershipAdmin(PolicyScopedAdmin):
    list_display = ("user", "role", "agency", "unit")
    list_filter = ("role",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "agency", "role", "created_at", "accepted_at")


@admin.register(Calendar)
class CalendarAdmin(SimpleHistoryAdmin):
    list_display = ("name", "parent", "closed_on_cuti_bersama", "utc_offset_hours")

    def save_model(self, request: HttpRequest, obj: Calendar, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        calendar_rebuild(obj)


@admin.register(CalendarException)
class CalendarExceptionAdmin(SimpleHistoryAdmin):
    """Days set by hand go through the calendar service, so open due dates move with them."""

    list_display = ("date", "calendar", "kind", "name", "created_by")
    list_filter = ("calendar", "kind")
    fields = ("calendar", "date", "kind", "name")

    def save_model(
        self, request: HttpRequest, obj: CalendarException, form: Any, change: bool
    ) -> None:
        if change and "date" in form.changed_data:
            calendar_day_remove(
                calendar=obj.calendar, date=form.initial["date"], acting_user=request.user
            )
        calendar_day_set(
            calendar=obj.calendar,
            date=obj.date,
            kind=obj.kind,
            name=obj.name,
            acting_user=request.user,
        )

    def delete_model(self, request: HttpRequest, obj: CalendarException) -> None:
        calendar_day_remove(calendar=obj.calendar, date=obj.date, acting_user=request.user)


# The library's own key model is unused (agencies keep AgencyApiKey): keep it out of sight.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(AgencyApiKey)
class AgencyApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are created and revoked on the staff pages, which write the audit."""

    list_display = ("prefix", "name", "agency", "scope", "created", "last_used_at", "revoked")
    list_filter = ("scope", "revoked")
    search_fields = ("prefix", "name", "agency__name")
    readonly_fields = [f.name for f in AgencyApiKey._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
