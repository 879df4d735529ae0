"""Staff pages of the satisfaction survey (mounted at staff/skm/, namespace `skm_staff`)."""

from __future__ import annotations

from django.urls import path

from feedback.views import skm_staff as views

app_name = "skm_staff"

urlpatterns = [
    path("", views.skm_staff_index, name="index"),
    path("<int:unit_pk>/<str:period>/", views.skm_staff_period, name="period"),
    path("<int:unit_pk>/<str:period>/follow-up/", views.skm_staff_follow_up, name="follow_up"),
    path("suggestions/<int:pk>/answer/", views.skm_staff_answer, name="answer"),
]
