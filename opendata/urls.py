from django.urls import path

from opendata.views import datasets, hsds
from opendata.views import public as views

app_name = "opendata"

urlpatterns = [
    path("cpsv-ap.jsonld", views.cpsv_catalogue, name="cpsv_catalogue"),
    path("cpsv-ap/services/<int:pk>.jsonld", views.cpsv_service, name="cpsv_service"),
    path("catalog.jsonld", datasets.dcat_catalogue, name="dcat_catalogue"),
    path(
        "datasets/<slug:key>.<str:extension>",
        datasets.dataset_download,
        name="dataset",
    ),
    # Open Referral HSDS 3.0 (opendata/views/hsds.py): its paths have no trailing slash.
    path("hsds/", hsds.index, name="hsds_index"),
    path("hsds/services", hsds.services, name="hsds_services"),
    path("hsds/services/<str:id>", hsds.service, name="hsds_service"),
    path("hsds/organizations", hsds.organizations, name="hsds_organizations"),
    path("hsds/organizations/<str:id>", hsds.organization, name="hsds_organization"),
]
