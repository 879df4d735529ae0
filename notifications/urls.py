from django.urls import path

from notifications.views import staff

app_name = "notifications"

urlpatterns = [
    path("", staff.inbox, name="inbox"),
    path("<int:pk>/read/", staff.mark_read, name="read"),
    path("read-all/", staff.mark_all_read, name="read_all"),
    path("read-group/", staff.mark_group_read, name="read_group"),
    path("settings/", staff.my_settings, name="my_settings"),
    path("agency/<slug:agency_slug>/", staff.agency_settings, name="agency_settings"),
    path(
        "agency/<slug:agency_slug>/webhooks/add/",
        staff.webhook_add,
        name="webhook_add",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/edit/",
        staff.webhook_edit,
        name="webhook_edit",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/enable/",
        staff.webhook_enable,
        name="webhook_enable",
    ),
    path(
        "agency/<slug:agency_slug>/webhooks/<int:pk>/delete/",
        staff.webhook_delete,
        name="webhook_delete",
    ),
    path("agency/<slug:agency_slug>/digests/", staff.unit_digests, name="unit_digests"),
    path(
        "agency/<slug:agency_slug>/addresses/<int:pk>/enable/",
        staff.address_enable,
        name="address_enable",
    ),
]
