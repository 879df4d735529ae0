"""The REST API (DRF), documented at /api/docs/."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
