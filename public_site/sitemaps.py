"""sitemap.xml: the public pages in both languages (with hreflang alternates)."""

from __future__ import annotations

from typing import Any

from django.contrib.sitemaps import Sitemap
from django.db.models import F, QuerySet
from django.urls import reverse

from agencies.models import Agency, Location, Unit
from charter.models import Charter, CharterStatus
from compliance.models import AssessmentMethod, AssessmentState
from lifeevents.models import LifeEvent
from services.models import Service, VersionStatus


class _PublicSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True


class StaticSitemap(_PublicSitemap):
    priority = 1.0
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["public:home", "public:league", "public:mpp_list", "public:life_events"]

    def location(self, item: str) -> str:
        return reverse(item)


class AgencySitemap(_PublicSitemap):
    priority = 0.6

    def items(self) -> QuerySet[Agency]:
        return Agency.objects.order_by("pk").only("pk", "slug", "updated_at")

    def lastmod(self, item: Agency) -> Any:
        return item.updated_at


class UnitSitemap(_PublicSitemap):
    priority = 0.5

    def items(self) -> QuerySet[Unit]:
        return (
            Unit.objects.filter(is_active=True)
            .select_related("agency")
            .only("pk", "slug", "updated_at", "agency__slug")
            .order_by("pk")
        )

    def lastmod(self, item: Unit) -> Any:
        return item.updated_at


class ServiceSitemap(_PublicSitemap):
    priority = 0.8

    def items(self) -> QuerySet[Service]:
        return (
            Service.objects.filter(versions__status=VersionStatus.PUBLISHED)
            .select_related("agency")
            .only("pk", "slug", "agency__slug")
            .annotate(published_at=F("versions__published_at"))
            .order_by("pk")
        )

    def lastmod(self, item: Service) -> Any:
        return getattr(item, "published_at", None)


class CharterSitemap(_PublicSitemap):
    priority = 0.5

    def items(self) -> QuerySet[Charter]:
        return Charter.objects.filter(status=CharterStatus.PUBLISHED).order_by("pk").only("pk")


class LocationSitemap(_PublicSitemap):
    """Every open location's page: offices, public service malls and other service points."""

    priority = 0.6

    def items(self) -> QuerySet[Location]:
        return (
            Location.objects.filter(is_active=True).only("pk", "slug", "updated_at").order_by("pk")
        )

    def lastmod(self, item: Location) -> Any:
        return item.updated_at


class LifeEventSitemap(_PublicSitemap):
    priority = 0.7

    def items(self) -> QuerySet[LifeEvent]:
        return (
            LifeEvent.objects.filter(is_published=True)
            .order_by("pk")
            .only("pk", "slug", "updated_at")
        )

    def lastmod(self, item: LifeEvent) -> Any:
        return item.updated_at


class ScorecardSitemap(_PublicSitemap):
    """The compliance scorecard of every agency with a published assessment."""

    priority = 0.5

    def items(self) -> QuerySet[Agency]:
        return (
            Agency.objects.filter(assessments__state=AssessmentState.PUBLISHED)
            .distinct()
            .order_by("pk")
            .only("pk", "slug")
        )

    def location(self, item: Agency) -> str:
        return reverse("public:compliance_scorecard", kwargs={"slug": item.slug})


class MethodSitemap(_PublicSitemap):
    """The page of each assessment method (the scoring rules, public)."""

    priority = 0.3

    def items(self) -> QuerySet[AssessmentMethod]:
        return AssessmentMethod.objects.order_by("pk").only("pk", "code")

    def location(self, item: AssessmentMethod) -> str:
        return reverse("public:compliance_method", kwargs={"code": item.code})


SITEMAPS: dict[str, type[Sitemap]] = {
    "static": StaticSitemap,
    "agencies": AgencySitemap,
    "units": UnitSitemap,
    "services": ServiceSitemap,
    "charters": CharterSitemap,
    "locations": LocationSitemap,
    "life-events": LifeEventSitemap,
    "scorecards": ScorecardSitemap,
    "methods": MethodSitemap,
}
