from django.urls import path

from agencies import staff_views

app_name = "agency_admin"

urlpatterns = [
    path("<slug:agency_slug>/members/", staff_views.members, name="members"),
    path("<slug:agency_slug>/members/invite/", staff_views.member_invite, name="member_invite"),
    path(
        "<slug:agency_slug>/members/<int:membership_id>/revoke/",
        staff_views.member_revoke,
        name="member_revoke",
    ),
]
