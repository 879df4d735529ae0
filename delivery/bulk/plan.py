"""What each valid item will write: the agency's services, standard versions and work
calendars, loaded once per request or import job, and the row each item becomes, with its
clock computed by `delivery.clock` over the calendar preloaded once (`CalendarDays`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from agencies.calendars import CalendarDays, calendar_for_unit, calendar_national
from agencies.models import Agency, Calendar, Unit
from core.errors import ApplicationError
from delivery.clock import clock_apply, completion_apply, status_of
from delivery.models import ServiceDelivery
from services.models import Service, StandardVersion, VersionStatus

if TYPE_CHECKING:
    from delivery.bulk.items import CleanItem


@dataclass(frozen=True)
class _Version:
    pk: int
    published_at: dt.datetime
    superseded_at: dt.datetime | None
    clock_start: str
    promise_value: int
    promise_unit: str
    promised_cost: int


class AgencyCatalogue:
    """One agency's services, standard versions and calendars, each loaded once and
    reused for every chunk."""

    def __init__(self, agency: Agency) -> None:
        self.agency = agency
        self._services: dict[str, Service] | None = None
        self._versions: dict[int, list[_Version]] | None = None
        self._days: dict[int, CalendarDays] = {}
        self._unit_calendars: dict[int, Calendar] = {}
        self._national: Calendar | None = None

    @property
    def services(self) -> dict[str, Service]:
        if self._services is None:
            self._services = {
                s.slug: s
                for s in Service.objects.filter(agency=self.agency).select_related(
                    "unit__calendar", "unit__agency__calendar"
                )
            }
        return self._services

    def _versions_of(self, service_id: int) -> list[_Version]:
        if self._versions is None:
            self._versions = {}
            rows = StandardVersion.objects.filter(
                service__agency=self.agency,
                status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED],
                published_at__isnull=False,
            ).values_list(
                "pk",
                "service_id",
                "published_at",
                "superseded_at",
                "clock_start",
                "processing_time_value",
                "processing_time_unit",
                "total_cost",
            )
            for pk, owner_id, published, superseded, clock, value, unit, cost in rows:
                if published is None:
                    continue
                self._versions.setdefault(owner_id, []).append(
                    _Version(pk, published, superseded, clock, value or 0, unit, cost)
                )
        return self._versions.get(service_id, [])

    def _national_calendar(self) -> Calendar:
        if self._national is None:
            self._national = calendar_national()
        return self._national

    def calendar_for(self, unit: Unit) -> Calendar:
        """The unit's work calendar, with the national one read once, not per unit."""
        if unit.pk not in self._unit_calendars:
            self._unit_calendars[unit.pk] = calendar_for_unit(
                unit, national=self._national_calendar
            )
        return self._unit_calendars[unit.pk]

    def days(self, calendar_id: int) -> CalendarDays:
        """The calendar's days, preloaded once: every due date is then a dictionary lookup."""
        if calendar_id not in self._days:
            self._days[calendar_id] = CalendarDays.preloaded(Calendar.objects.get(pk=calendar_id))
        return self._days[calendar_id]

    def version_in_force(self, service: Service, at: dt.datetime) -> _Version:
        """delivery.services.version_in_force over the versions loaded once."""
        candidates = [
            v
            for v in self._versions_of(service.pk)
            if v.published_at <= at and (v.superseded_at is None or v.superseded_at > at)
        ]
        if not candidates:
            raise ApplicationError(
                _("The service had no published standard when this request was submitted."),
                code="no_standard",
                field="submitted_at",
            )
        return max(candidates, key=lambda v: v.published_at)

    def plan(
        self, item: CleanItem, existing: ServiceDelivery | None, *, paused: bool
    ) -> ServiceDelivery:
        """The row `item` becomes (a new delivery, or `existing` updated), its clock, time
        taken and status computed as delivery_record computes them. `paused`: `existing`
        has a pause not yet ended."""
        service = item.service
        if existing is None:
            version = self.version_in_force(service, item.submitted_at)
            calendar = self.calendar_for(service.unit)
            delivery = ServiceDelivery(
                agency_id=self.agency.pk,
                unit_id=service.unit_id,
                service_id=service.pk,
                version_id=version.pk,
                calendar_id=calendar.pk,
                reference=item.reference,
                promise_value=version.promise_value,
                promise_unit=version.promise_unit,
                promised_cost=version.promised_cost,
            )
            clock_rule = version.clock_start
            unit = service.unit
        else:
            if existing.service_id != service.pk:
                raise ApplicationError(
                    _("This reference is already used for another service."), field="reference"
                )
            delivery = existing
            clock_rule = existing.version.clock_start
            unit = existing.unit
        days = self.days(delivery.calendar_id)
        delivery.submitted_at = item.submitted_at
        delivery.file_complete_at = item.file_complete_at
        delivery.completed_at = item.completed_at
        delivery.outcome = item.outcome
        delivery.refusal_reason = item.refusal_reason
        delivery.fee_charged = item.fee_charged
        delivery.channel = item.channel
        try:
            clock_apply(delivery, days=days, clock_rule=clock_rule, unit=unit)
            completion_apply(delivery, days=days)
        except ApplicationError as error:
            # Each item's message is shown as it is: in the language of the request.
            raise ApplicationError(_(error.message), code=error.code, field=error.field) from None
        delivery.status = status_of(delivery, paused=existing is not None and paused)
        return delivery
