"""The ombudsman's API keys (read-only, across agencies); agencies' keys are under
agency_admin (agencies.staff_urls)."""

from django.urls import path

from agencies import api_key_views

app_name = "api_keys"

urlpatterns = [
    path("", api_key_views.api_keys, name="ombudsman"),
    path("<str:prefix>/revoke/", api_key_views.api_key_revoke_view, name="ombudsman_revoke"),
]
