"""Reads for the HSDS 3.0 API (opendata.hsds builds the documents): each page or document
in a fixed number of queries, however many rows the registry holds."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from agencies.calendars import DEFAULT_WEEKEND, NATIONAL_SLUG
from agencies.models import Agency, Calendar, Counter, Location, Unit
from opendata.hsds import Defaults
from services.models import Service, StandardVersion, VersionStatus
from services.selectors import current_version, service_with_current_version


def hsds_defaults() -> Defaults:
    """The national calendar's days off and time zone: one query."""
    national = (
        Calendar.objects.filter(slug=NATIONAL_SLUG)
        .values_list("weekend_days", "utc_offset_hours")
        .first()
    )
    if national is None:
        return Defaults(weekend=tuple(DEFAULT_WEEKEND))
    weekend, offset = national
    return Defaults(weekend=tuple(weekend or DEFAULT_WEEKEND), utc_offset_hours=offset)


def _published_services() -> QuerySet[Service]:
    return Service.objects.filter(versions__status=VersionStatus.PUBLISHED)


def _counters() -> Prefetch:
    return Prefetch(
        "unit__counters",
        queryset=Counter.objects.select_related("location__host_agency__calendar").order_by(
            "location__name", "pk"
        ),
    )


def _paired(services: list[Service]) -> list[tuple[Service, StandardVersion]]:
    return [(s, v) for s in services if (v := current_version(s)) is not None]


def hsds_service_page(
    *, offset: int, limit: int, agency_id: int | None = None
) -> tuple[int, list[tuple[Service, StandardVersion]]]:
    """A page of services with a published standard, by primary key: a count, the
    services with agency and unit, their published version and its children (7 queries)."""
    services = _published_services()
    if agency_id is not None:
        services = services.filter(agency_id=agency_id)
    total = services.count()
    if offset >= total:
        return total, []
    rows = list(service_with_current_version(services).order_by("pk")[offset : offset + limit])
    return total, _paired(rows)


def hsds_service_get(*, pk: int) -> tuple[Service, StandardVersion]:
    """One service, fully loaded (its calendars and the places its unit serves at too).
    Raises Service.DoesNotExist when it has no published version."""
    service = (
        service_with_current_version(_published_services())
        .select_related("agency__calendar", "unit__calendar")
        .prefetch_related(_counters())
        .get(pk=pk)
    )
    version = current_version(service)
    if version is None:
        raise Service.DoesNotExist
    service.unit.agency = service.agency  # the same row, already joined with its calendar
    return service, version


def hsds_organization_page(*, offset: int, limit: int) -> tuple[int, list[Agency]]:
    agencies = Agency.objects.all()
    total = agencies.count()
    if offset >= total:
        return total, []
    return total, list(agencies.order_by("pk")[offset : offset + limit])


@dataclass(frozen=True)
class OrganizationData:
    agency: Agency
    units: list[Unit]
    places: list[Location]
    services: list[tuple[Service, StandardVersion]]


def hsds_organization_get(*, pk: int) -> OrganizationData:
    """An agency with its active units, the places it hosts or its units serve at, and its
    services with a published standard. Raises Agency.DoesNotExist."""
    agency = Agency.objects.select_related("calendar").get(pk=pk)
    units = list(
        Unit.objects.filter(agency=agency, is_active=True)
        .select_related("agency__calendar", "calendar")
        .order_by("name", "pk")
    )
    places = list(
        Location.objects.filter(Q(host_agency=agency) | Q(counters__unit__agency=agency))
        .filter(is_active=True)
        .select_related("host_agency__calendar")
        .distinct()
        .order_by("name", "pk")
    )
    services = list(
        service_with_current_version(_published_services().filter(agency=agency)).order_by("pk")
    )
    return OrganizationData(agency, units, places, _paired(services))
