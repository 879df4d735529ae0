from django.urls import path

from agencies import api_key_views, staff_views

app_name = "agency_admin"

urlpatterns = [
    path("<slug:agency_slug>/members/", staff_views.members, name="members"),
    path("<slug:agency_slug>/members/invite/", staff_views.member_invite, name="member_invite"),
    path(
        "<slug:agency_slug>/members/<int:membership_id>/revoke/",
        staff_views.member_revoke,
        name="member_revoke",
    ),
    path("<slug:agency_slug>/api-keys/", api_key_views.api_keys, name="api_keys"),
    path(
        "<slug:agency_slug>/api-keys/<str:prefix>/revoke/",
        api_key_views.api_key_revoke_view,
        name="api_key_revoke",
    ),
]
