from django.urls import path

from services.views import staff as views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("export/<slug:agency_slug>.csv", views.export_csv, name="export_csv"),
    path("export/<slug:agency_slug>.xlsx", views.export_xlsx, name="export_xlsx"),
    path("<str:token>/", views.preview, name="preview"),
    path("<str:token>/confirm/", views.confirm, name="confirm"),
    path("<str:token>/cancel/", views.cancel, name="cancel"),
]
