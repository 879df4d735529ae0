from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_code_view, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.otp_setup_view, name="otp_setup"),
    path("two-factor/disable/", views.otp_disable_view, name="otp_disable"),
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
]
