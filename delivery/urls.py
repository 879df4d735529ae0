from django.urls import path

from delivery import views

app_name = "deliveries"

urlpatterns = [
    path("", views.delivery_list, name="list"),
    path("new/", views.delivery_create, name="create"),
    path("import/", views.delivery_import, name="import"),
    path("import/<slug:job_id>/", views.import_job, name="import_job"),
    path("import/<slug:job_id>/errors.csv", views.import_report, name="import_report"),
    path("<int:pk>/", views.delivery_detail, name="detail"),
    path("<int:pk>/<slug:name>/", views.delivery_status, name="status"),
]
