from django.urls import path

from delivery.views import staff

app_name = "deliveries"

urlpatterns = [
    path("", staff.delivery_list, name="list"),
    path("new/", staff.delivery_create, name="create"),
    path("import/", staff.delivery_import, name="import"),
    path("import/<slug:job_id>/", staff.import_job, name="import_job"),
    path("import/<slug:job_id>/errors.csv", staff.import_report, name="import_report"),
    path("<int:pk>/", staff.delivery_detail, name="detail"),
    path("<int:pk>/<slug:name>/", staff.delivery_status, name="status"),
]
