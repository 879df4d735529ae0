"""The survey's public pages (mounted at survey/, namespace `feedback`)."""

from __future__ import annotations

from django.urls import path

from feedback.views import public as views

app_name = "feedback"

urlpatterns = [
    path("request/<str:code>/", views.survey_after_request, name="after_request"),
    path("<slug:agency_slug>/<slug:unit_slug>/", views.survey_open, name="open"),
    path(
        "<slug:agency_slug>/<slug:unit_slug>/results/",
        views.skm_unit_results,
        name="unit_results",
    ),
    path(
        "<slug:agency_slug>/<slug:unit_slug>/results/<slug:service_slug>/",
        views.skm_service_results,
        name="service_results",
    ),
    path(
        "<slug:agency_slug>/<slug:unit_slug>/report/<str:period>/",
        views.skm_unit_report,
        name="unit_report",
    ),
    path(
        "<slug:agency_slug>/<slug:unit_slug>/report/<str:period>/pdf/",
        views.skm_unit_report_pdf,
        name="unit_report_pdf",
    ),
]
