from django.urls import URLPattern, path  # noqa: F401

app_name = "agency_admin"

urlpatterns: list[URLPattern] = []
