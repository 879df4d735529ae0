from django.urls import path

from opendata.views import datasets
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
]
