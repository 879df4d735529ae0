from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from agencies import views as agency_views
from core import views as core_views
from oversight import urls as oversight_urls
from services import consultation_views
from services import views as service_views
from services.sitemaps import SITEMAPS

public_patterns = [
    path("consultation/", consultation_views.consultation_list, name="consultations"),
    path("consultation/<int:pk>/", consultation_views.consultation_detail, name="consultation"),
    path("", service_views.home, name="home"),
    path("search/", service_views.search, name="search"),
    path("agencies/", agency_views.league, name="league"),
    path("agencies/<slug:slug>/", agency_views.agency_detail, name="agency"),
    path(
        "agencies/<slug:agency_slug>/units/<slug:slug>/",
        agency_views.unit_detail,
        name="unit",
    ),
    path(
        "agencies/<slug:agency_slug>/services/<slug:slug>/",
        service_views.service_detail,
        name="service",
    ),
    path(
        "agencies/<slug:agency_slug>/services/<slug:slug>/versions/<int:number>/",
        service_views.service_version,
        name="service_version",
    ),
    path("charters/<int:pk>/", service_views.charter_detail, name="charter"),
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", service_views.robots_txt, name="robots_txt"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", core_views.api_docs, name="api-docs"),
    path("csp-report/", core_views.csp_report, name="csp-report"),
]

urlpatterns += i18n_patterns(
    path("", include((public_patterns, "public"))),
    path("accounts/", include("accounts.urls")),
    path("staff/", include("staff.urls")),
    path("staff/standards/", include("services.staff_urls")),
    path("staff/import/", include("services.import_urls")),
    path("staff/agency/", include("agencies.staff_urls")),
    path("staff/api-keys/", include("agencies.api_key_urls")),
    path("staff/deliveries/", include("delivery.urls", namespace="deliveries")),
    path("staff/breaches/", include(oversight_urls.list_patterns)),
    path("staff/breaches/", include(oversight_urls.answer_patterns)),
    path("staff/oversight/", include(oversight_urls.legacy_patterns)),
    path("staff/inbox/", include("notifications.urls")),
    path("charters/", include("charter.urls")),
    path("track/", include("delivery.public_urls")),
    path("admin/", admin.site.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=False,
)

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
