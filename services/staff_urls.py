from django.urls import path

from services.views import staff as views

app_name = "standards"

urlpatterns = [
    path("services/new/", views.service_create, name="service_create"),
    path("services/<int:pk>/", views.service_detail, name="service"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/submit/", views.version_submit, name="version_submit"),
    path("versions/<int:pk>/return/", views.version_return_to_draft, name="version_return"),
    path(
        "versions/<int:pk>/consultation/",
        views.version_open_consultation,
        name="version_consultation",
    ),
    path("versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
    path("versions/<int:pk>/new-version/", views.version_new, name="version_new"),
    path(
        "versions/<int:pk>/compare/<int:other_pk>/", views.version_compare, name="version_compare"
    ),
]
