from django.urls import path

from agencies.views import locations as location_views
from agencies.views import staff as views

app_name = "agency_admin"

urlpatterns = [
    path("<slug:agency_slug>/profile/", views.agency_profile, name="profile"),
    path("<slug:agency_slug>/units/", views.units, name="units"),
    path("<slug:agency_slug>/units/<slug:unit_slug>/", views.unit_edit, name="unit"),
    path(
        "<slug:agency_slug>/units/<slug:unit_slug>/close/",
        views.unit_close_view,
        name="unit_close",
    ),
    path(
        "<slug:agency_slug>/units/<slug:unit_slug>/locations/",
        location_views.unit_locations,
        name="unit_locations",
    ),
    path("<slug:agency_slug>/locations/", location_views.locations, name="locations"),
    path(
        "<slug:agency_slug>/locations/<slug:location_slug>/",
        location_views.location_edit,
        name="location",
    ),
    path(
        "<slug:agency_slug>/counters/<int:counter_id>/remove/",
        location_views.counter_remove_view,
        name="counter_remove",
    ),
    path("<slug:agency_slug>/members/", views.members, name="members"),
    path("<slug:agency_slug>/members/invite/", views.member_invite, name="member_invite"),
    path(
        "<slug:agency_slug>/members/<int:membership_id>/revoke/",
        views.member_revoke,
        name="member_revoke",
    ),
    path("<slug:agency_slug>/api-keys/", views.api_keys, name="api_keys"),
    path(
        "<slug:agency_slug>/api-keys/<str:prefix>/revoke/",
        views.api_key_revoke_view,
        name="api_key_revoke",
    ),
]
