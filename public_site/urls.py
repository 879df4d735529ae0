"""The composed public pages (namespace `public`, which config/urls.py completes with
services' consultation pages), and the site-wide sitemap.xml and robots.txt."""

from django.contrib.sitemaps.views import sitemap
from django.urls import URLPattern, path

from public_site.sitemaps import SITEMAPS
from public_site.views import compliance as compliance_views
from public_site.views import locations as location_views
from public_site.views import public as views

# Under i18n_patterns, in the `public` namespace.
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("agencies/", views.league, name="league"),
    path("agencies/<slug:slug>/", views.agency_detail, name="agency"),
    path("agencies/<slug:agency_slug>/units/<slug:slug>/", views.unit_detail, name="unit"),
    path(
        "agencies/<slug:agency_slug>/services/<slug:slug>/",
        views.service_detail,
        name="service",
    ),
    path(
        "agencies/<slug:agency_slug>/services/<slug:slug>/versions/<int:number>/",
        views.service_version,
        name="service_version",
    ),
    path("charters/<int:pk>/", views.charter_detail, name="charter"),
    path("mpp/", location_views.mpp_list, name="mpp_list"),
    path("locations/near/", location_views.locations_nearby, name="locations_near"),
    path("locations/<slug:slug>/", location_views.location_detail, name="location"),
    path(
        "agencies/<slug:slug>/compliance/",
        compliance_views.agency_scorecard,
        name="compliance_scorecard",
    ),
    path(
        "compliance/methods/<slug:code>/", compliance_views.method_detail, name="compliance_method"
    ),
]

# Outside the language prefix and any namespace.
site_patterns: list[URLPattern] = [
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
