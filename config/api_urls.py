"""The REST API (DRF), documented at /api/v1/docs/."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from agencies.api import AgencyViewSet, UnitViewSet
from charter.api import CharterViewSet
from delivery.api import DeliveryViewSet
from services.api import ServiceViewSet, VersionViewSet

router = SimpleRouter()
router.register("agencies", AgencyViewSet, basename="api-agency")
router.register("units", UnitViewSet, basename="api-unit")
router.register("services", ServiceViewSet, basename="api-service")
router.register("versions", VersionViewSet, basename="api-version")
router.register("charters", CharterViewSet, basename="api-charter")
router.register("deliveries", DeliveryViewSet, basename="api-delivery")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
