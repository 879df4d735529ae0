"""Open311 GeoReport v2 (mounted at open311/v2/, namespace `open311`): language-neutral
paths, the format in the extension."""

from __future__ import annotations

from django.urls import re_path

from opendata.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[^/.]{1,60})" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/.]{1,60})" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/.]{1,60})" + FMT, views.token, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
