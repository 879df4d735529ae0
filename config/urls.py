from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from accounts import urls as accounts_urls
from agencies import public_urls as invitation_urls
from compliance import urls as compliance_urls
from core import views as core_views
from feedback import complaint_urls
from lifeevents import urls as lifeevent_urls
from oversight import urls as oversight_urls
from public_site import urls as public_urls
from services import public_urls as consultation_urls

# One namespace, several apps' pages: the composed pages of the public site and
# services' own public consultation.
public_patterns = [
    *consultation_urls.urlpatterns,
    *public_urls.urlpatterns,
    *lifeevent_urls.public_patterns,
]
# Sign-in pages and the invitation page that ends in one.
accounts_patterns = [*accounts_urls.urlpatterns, *invitation_urls.urlpatterns]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    *public_urls.site_patterns,
    path("i18n/", include("django.conf.urls.i18n")),
    # The API is versioned in its path: a breaking change goes to /api/v2/ (docs/api.md).
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", core_views.api_docs, name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("csp-report/", core_views.csp_report, name="csp-report"),
    # Data documents: language-neutral, so outside the language prefixes.
    path("opendata/", include("opendata.urls")),
    path("open311/v2/", include("opendata.open311.urls")),
]

urlpatterns += i18n_patterns(
    path("", include((public_patterns, "public"))),
    path("accounts/", include((accounts_patterns, "accounts"))),
    path("staff/", include("staff.urls")),
    path("staff/standards/", include("services.staff_urls")),
    path("staff/charters/", include("charter.staff_urls")),
    path("staff/import/", include("services.import_urls")),
    path("staff/agency/", include("agencies.staff_urls")),
    path("staff/api-keys/", include("agencies.api_key_urls")),
    path("staff/deliveries/", include("delivery.urls", namespace="deliveries")),
    path("staff/breaches/", include(oversight_urls.list_patterns)),
    path("staff/breaches/", include(oversight_urls.answer_patterns)),
    path("staff/oversight/", include(oversight_urls.legacy_patterns)),
    path("staff/cases/", include("cases.urls")),
    path("staff/inbox/", include("notifications.urls")),
    path("staff/life-events/", include("lifeevents.urls")),
    path("staff/compliance/", include(compliance_urls.staff_patterns)),
    path("compliance/", include(compliance_urls.public_patterns)),
    path("charters/", include("charter.urls")),
    path("track/", include("public_site.tracking_urls")),
    path("survey/", include("feedback.urls")),
    path("complaints/", include(complaint_urls.public_patterns)),
    path("staff/complaints/", include(complaint_urls.staff_patterns)),
    path("staff/skm/", include("feedback.skm_staff_urls")),
    # The datasets page; its downloads and catalogue are language-neutral (opendata.urls).
    path("opendata/", include("opendata.page_urls")),
    path("admin/", admin.site.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    prefix_default_language=False,
)

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
