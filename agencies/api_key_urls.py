"""The ombudsman's API keys (read-only, across agencies); agencies' keys are under
agency_admin (agencies.staff_urls)."""

from django.urls import path

from agencies.views import staff as views

app_name = "api_keys"

urlpatterns = [
    path("", views.api_keys, name="ombudsman"),
    path("<str:prefix>/revoke/", views.api_key_revoke_view, name="ombudsman_revoke"),
]
