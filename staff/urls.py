from django.urls import path

from staff.views import staff as views

app_name = "staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
