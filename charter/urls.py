from django.urls import URLPattern, path

from charter.views import public as views

app_name = "charters"

urlpatterns: list[URLPattern] = [
    path("<int:pk>/poster/", views.charter_poster, name="charter_poster"),
    path("<int:pk>/poster.pdf", views.charter_poster_pdf, name="charter_poster_pdf"),
    path(
        "service/<slug:agency_slug>/<slug:slug>/poster/",
        views.standard_poster,
        name="standard_poster",
    ),
    path(
        "service/<slug:agency_slug>/<slug:slug>/poster.pdf",
        views.standard_poster_pdf,
        name="standard_poster_pdf",
    ),
]
