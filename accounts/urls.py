"""Login and two-factor pages; config/urls.py puts them in the `accounts` namespace, with
agencies' invitation page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import public as views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code_view, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.otp_setup_view, name="otp_setup"),
    path("two-factor/disable/", views.otp_disable_view, name="otp_disable"),
]
