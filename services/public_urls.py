"""Public consultation pages; config/urls.py puts them in the `public` namespace."""

from django.urls import URLPattern, path

from services.views import public as views

urlpatterns: list[URLPattern] = [
    path("consultation/", views.consultation_list, name="consultations"),
    path("consultation/<int:pk>/", views.consultation_detail, name="consultation"),
]
