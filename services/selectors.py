"""Reads for services and standards, with their joins already applied."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from agencies.policy import Action, scope
from services.models import Service, StandardVersion, VersionStatus

VERSION_CHILDREN = ("requirements", "steps", "cost_items", "complaint_channels")


def published_versions() -> QuerySet[StandardVersion]:
    return StandardVersion.objects.filter(status=VersionStatus.PUBLISHED)


def service_list_public() -> QuerySet[Service]:
    """Services with a published standard, each with its current version attached."""
    return (
        Service.objects.filter(versions__status=VersionStatus.PUBLISHED)
        .select_related("agency", "unit")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=published_versions().prefetch_related("cost_items"),
                to_attr="published",
            )
        )
        .order_by("name")
    )


def service_get_public(*, agency_slug: str, slug: str) -> Service:
    return Service.objects.select_related("agency", "unit").get(agency__slug=agency_slug, slug=slug)


def version_with_content(version_qs: QuerySet[StandardVersion]) -> QuerySet[StandardVersion]:
    return version_qs.select_related("service__agency", "service__unit").prefetch_related(
        *VERSION_CHILDREN
    )


def current_version(service: Service) -> StandardVersion | None:
    return version_with_content(service.versions.filter(status=VersionStatus.PUBLISHED)).first()


def service_list_for_staff(*, user: Any) -> QuerySet[Service]:
    return scope(user, Service.objects.all(), Action.VIEW_PRIVATE).select_related("agency", "unit")
