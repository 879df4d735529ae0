from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("breaches/", views.breach_list, name="breaches"),
]
