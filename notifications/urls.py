from django.urls import path

from notifications import settings_views, views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", settings_views.my_settings, name="my_settings"),
    path("agency/<slug:agency_slug>/", settings_views.agency_settings, name="agency_settings"),
    path(
        "agency/<slug:agency_slug>/webhooks/add/",
        settings_views.webhook_add,
        name="webhook_add",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/edit/",
        settings_views.webhook_edit,
        name="webhook_edit",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/enable/",
        settings_views.webhook_enable,
        name="webhook_enable",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/delete/",
        settings_views.webhook_delete,
        name="webhook_delete",
    ),
    path("agency/<slug:agency_slug>/digests/", settings_views.unit_digests, name="unit_digests"),
    path(
        "agency/<slug:agency_slug>/addresses/<int:pk>/enable/",
        settings_views.address_enable,
        name="address_enable",
    ),
]
