"""The case pages, under /staff/cases/ (config/urls.py)."""

from django.urls import path

from cases.views import exports, staff

app_name = "cases"

urlpatterns = [
    path("", staff.case_list, name="list"),
    path("open/", staff.case_open_view, name="open"),
    path("group/", staff.case_group_view, name="group"),
    path("export/<str:what>.<str:fmt>", exports.export, name="export"),
    path("<int:pk>/", staff.case_detail, name="detail"),
    path("<int:pk>/act/", staff.case_act, name="act"),
    path("<int:pk>/notes/", staff.case_note, name="note"),
    path("<int:pk>/files/<str:kind>/<int:file_id>/", staff.case_file_view, name="file"),
]
