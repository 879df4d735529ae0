"""Reads for agencies and units."""

from __future__ import annotations

from itertools import groupby

from django.db.models import Count, Q, QuerySet

from agencies.models import Agency, Unit


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


def unit_list_for_agency(agency: Agency) -> QuerySet[Unit]:
    return agency.units.filter(is_active=True).order_by("name")
