"""The open-data page, in both languages (under the language prefixes)."""

from django.urls import path

from opendata.views import datasets

app_name = "opendata_page"

urlpatterns = [path("", datasets.datasets_page, name="datasets")]
