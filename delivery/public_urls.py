"""Public tracking of one delivery by its tracking code (mounted at track/ on the public site)."""

from __future__ import annotations

from django.urls import path

from delivery import public_views

app_name = "track"

urlpatterns = [
    path("", public_views.track_form, name="form"),
    path("unsubscribe/<str:token>/", public_views.track_unsubscribe, name="unsubscribe"),
    path("confirm/<str:token>/", public_views.track_confirm, name="confirm"),
    path("<str:code>/", public_views.track_detail, name="detail"),
    path("<str:code>/follow/", public_views.track_follow, name="follow"),
]
