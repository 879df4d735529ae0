"""The REST API (DRF), documented at /api/v1/docs/."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from agencies.api import AgencyViewSet, UnitViewSet
from charter.api import CharterViewSet
from delivery.api import DeliveryViewSet
from opendata.api import ServicePerformanceView, UnitPerformanceView, UnitSkmView
from opendata.api_oversight import (
    AssessmentViewSet,
    FindingViewSet,
    ServiceComplaintsView,
    UnitComplaintsView,
)
from opendata.api_places import LifeEventViewSet, LocationViewSet
from services.api import ServiceViewSet, VersionViewSet

router = SimpleRouter()
router.register("agencies", AgencyViewSet, basename="api-agency")
router.register("units", UnitViewSet, basename="api-unit")
router.register("services", ServiceViewSet, basename="api-service")
router.register("versions", VersionViewSet, basename="api-version")
router.register("charters", CharterViewSet, basename="api-charter")
router.register("deliveries", DeliveryViewSet, basename="api-delivery")
router.register("locations", LocationViewSet, basename="api-location")
router.register("life-events", LifeEventViewSet, basename="api-life-event")
router.register("findings", FindingViewSet, basename="api-finding")
router.register("assessments", AssessmentViewSet, basename="api-assessment")

urlpatterns: list[URLPattern | URLResolver] = [
    # Composed public reads (opendata.api): figures of a service or a unit.
    path(
        "services/<int:pk>/performance/",
        ServicePerformanceView.as_view(),
        name="api-service-performance",
    ),
    path("units/<int:pk>/performance/", UnitPerformanceView.as_view(), name="api-unit-performance"),
    path("units/<int:pk>/skm/", UnitSkmView.as_view(), name="api-unit-skm"),
    path(
        "services/<int:pk>/complaints/",
        ServiceComplaintsView.as_view(),
        name="api-service-complaints",
    ),
    path("units/<int:pk>/complaints/", UnitComplaintsView.as_view(), name="api-unit-complaints"),
    *router.urls,
]
