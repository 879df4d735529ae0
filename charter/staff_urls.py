from django.urls import path

from charter.views import staff as views

app_name = "charter_staff"

urlpatterns = [
    path("", views.charter_list, name="list"),
    path("new/", views.charter_create, name="create"),
    path("<int:pk>/", views.charter_detail, name="detail"),
    path("<int:pk>/edit/", views.charter_edit, name="edit"),
    path("<int:pk>/publish/", views.charter_publish, name="publish"),
    path("<int:pk>/new-version/", views.charter_new_version, name="new_version"),
    path("<int:pk>/withdraw/", views.charter_withdraw, name="withdraw"),
    path("<int:pk>/compare/<int:other_pk>/", views.charter_compare, name="compare"),
]
