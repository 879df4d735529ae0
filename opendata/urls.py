from django.urls import path

from opendata.views import public as views

app_name = "opendata"

urlpatterns = [
    path("cpsv-ap.jsonld", views.cpsv_catalogue, name="cpsv_catalogue"),
    path("cpsv-ap/services/<int:pk>.jsonld", views.cpsv_service, name="cpsv_service"),
]
