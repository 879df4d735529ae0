"""The invitation page; config/urls.py puts it in the `accounts` namespace, under /accounts/."""

from django.urls import URLPattern, path

from agencies.views import public as views

urlpatterns: list[URLPattern] = [
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
]
