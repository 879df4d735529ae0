"""The citizen's tracking page for one delivery, by its tracking code (mounted at track/, namespace
`track`), and the follow form that asks oversight to tell the citizen of an answer."""

from __future__ import annotations

from django.urls import path

from public_site.views import tracking as public_views

app_name = "track"

urlpatterns = [
    path("", public_views.track_form, name="form"),
    path("unsubscribe/<str:token>/", public_views.track_unsubscribe, name="unsubscribe"),
    path("confirm/<str:token>/", public_views.track_confirm, name="confirm"),
    path("<str:code>/", public_views.track_detail, name="detail"),
    path("<str:code>/follow/", public_views.track_follow, name="follow"),
]
