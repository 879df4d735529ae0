"""Reads for agencies and units."""

from __future__ import annotations

from itertools import groupby

from django.db.models import Count, Q, QuerySet

from agencies.models import Agency, Unit
from core.collation import code_point_order


def agency_list_public() -> QuerySet[Agency]:
    return Agency.objects.annotate(
        published_services=Count(
            "services", filter=Q(services__versions__status="published"), distinct=True
        )
    ).order_by("region_name", "name")


def agencies_by_region() -> list[tuple[str, list[Agency]]]:
    agencies = list(agency_list_public())
    return [
        (region or "—", list(items))
        for region, items in groupby(agencies, key=lambda a: a.region_name)
    ]


def agency_regions() -> list[str]:
    """The regions that have an agency, each once, in Python's string order."""
    return list(
        Agency.objects.exclude(region_name="")
        .annotate(region=code_point_order("region_name"))
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )


def unit_list_for_agency(agency: Agency) -> QuerySet[Unit]:
    return agency.units.filter(is_active=True).order_by("name")
