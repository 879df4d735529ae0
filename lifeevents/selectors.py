"""Reads for life events: the public list and page (with the journey's dated totals), the
events a service is part of, and the staff's lists (scoped by the permission policy).

The page reads a fixed number of queries whatever the number of steps: the steps with their
services, units and calendars in one, the current published standards with their
requirements and costs in three more, each distinct work calendar once (preloaded), and the
agencies' on-time rates in one (cached by delivery).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from agencies.calendars import (
    DAY_UNITS,
    NATIONAL_SLUG,
    CalendarDays,
    clock_due,
    working_days_between,
)
from agencies.models import Calendar, Unit
from agencies.policy import Action, grant_for, scope
from core.errors import ApplicationError
from delivery.selectors import AgencyPerformance, agency_league
from lifeevents.journey import JourneyPlan, Leg, journey_plan
from lifeevents.models import LifeEvent, LifeEventStep
from services.deadline_example import example_due_date, example_start, is_working_day
from services.models import Service, StandardVersion, TimeUnit, VersionStatus

# An agency "keeps missing its promise" when fewer than this share of its requests closed in
# the last year were on time (and enough of them were closed for the rate to be shown).
LOW_ON_TIME_RATE = 0.8
# The period of the on-time rate: the same year the public performance panels show.
ON_TIME_PERIOD_DAYS = 365


def life_event_list_public() -> QuerySet[LifeEvent]:
    return (
        LifeEvent.objects.filter(is_published=True)
        .annotate(step_count=Count("steps"))
        .order_by("kind", "title")
    )


def life_events_for_service(service: Service) -> list[LifeEvent]:
    """The published journeys this service is a step of (for its public page)."""
    return list(
        LifeEvent.objects.filter(is_published=True, steps__service_id=service.pk)
        .distinct()
        .order_by("title")
        .only("pk", "title", "slug", "kind")
    )


def grouping_steps_prefetch() -> Prefetch[Any]:
    """A service's steps in published life events, with their event (`grouping_steps`)."""
    return Prefetch(
        "life_event_steps",
        queryset=LifeEventStep.objects.filter(event__is_published=True)
        .select_related("event")
        .order_by("event__slug", "order"),
        to_attr="grouping_steps",
    )


def life_event_list_for_staff(*, user: Any) -> QuerySet[LifeEvent]:
    """Every journey for curators; for agency staff, those their agency's services are in."""
    events = LifeEvent.objects.annotate(step_count=Count("steps")).order_by("title")
    if can_curate(user):
        return events
    services = scope(user, Service.objects.all(), Action.VIEW_PRIVATE)
    return events.filter(pk__in=LifeEventStep.objects.filter(service__in=services).values("event"))


def can_curate(user: Any) -> bool:
    """Journeys span agencies: only a grant everywhere (a curator, a superuser) shapes them."""
    return grant_for(user, Action.CURATE_LIFE_EVENTS).everywhere


def steps_with_services(event: LifeEvent) -> QuerySet[LifeEventStep]:
    return (
        event.steps.select_related(
            "service__agency__calendar",
            "service__unit__calendar",
        )
        .prefetch_related(
            Prefetch("depends_on", queryset=LifeEventStep.objects.only("pk", "order"))
        )
        .order_by("order", "pk")
    )


# --- The public page --------------------------------------------------------------------------
@dataclass
class StepView:
    step: LifeEventStep
    service: Service
    version: StandardVersion | None
    needs: list[LifeEventStep]
    start: dt.date | None = None
    due: dt.date | None = None
    working_days: int = 0
    critical: bool = False
    performance: AgencyPerformance | None = None

    @property
    def no_standard(self) -> bool:
        return self.version is None

    @property
    def keeps_missing(self) -> bool:
        rate = self.performance.on_time_rate if self.performance else None
        return rate is not None and rate < LOW_ON_TIME_RATE

    @property
    def same_day(self) -> bool:
        return self.version is not None and self.version.processing_time_unit in (
            TimeUnit.HOURS,
            TimeUnit.MINUTES,
        )

    @property
    def cost(self) -> int:
        if self.version is None or self.version.is_free:
            return 0
        return int(self.version.total_cost)


@dataclass
class JourneyView:
    event: LifeEvent
    steps: list[StepView]
    plan: JourneyPlan | None
    today: dt.date
    uncounted: list[StepView] = field(default_factory=list)
    low_rate_threshold: int = round(LOW_ON_TIME_RATE * 100)

    @property
    def any_keeps_missing(self) -> bool:
        return any(step.keeps_missing for step in self.steps)


def life_event_get_public(*, slug: str) -> LifeEvent:
    return LifeEvent.objects.get(slug=slug, is_published=True)


def _attach_versions(steps: list[LifeEventStep]) -> dict[int, StandardVersion]:
    service_ids = {step.service_id for step in steps}
    versions = (
        StandardVersion.objects.filter(service_id__in=service_ids, status=VersionStatus.PUBLISHED)
        .prefetch_related("requirements", "cost_items")
        .order_by("pk")
    )
    return {version.service_id: version for version in versions}


class _Calendars:
    """Each distinct work calendar of the journey, read once."""

    def __init__(self) -> None:
        self._days: dict[int, CalendarDays] = {}
        self._national: Calendar | bool | None = False

    def national(self) -> Calendar | None:
        if self._national is False:
            self._national = Calendar.objects.filter(slug=NATIONAL_SLUG).first()
        return self._national  # type: ignore[return-value]

    def calendar_id(self, unit: Unit) -> int | None:
        if unit.calendar_id:
            return unit.calendar_id
        if unit.agency.calendar_id:
            return unit.agency.calendar_id
        national = self.national()
        return national.pk if national else None

    def days(self, calendar_id: int | None) -> CalendarDays:
        if calendar_id is None:
            raise ApplicationError("No work calendar yet.")
        if calendar_id not in self._days:
            self._days[calendar_id] = CalendarDays.preloaded(Calendar(pk=calendar_id))
        return self._days[calendar_id]


def _started_at(days: CalendarDays, day: dt.date, opens_at: dt.time) -> dt.datetime:
    """The moment the unit opens on `day`, in its calendar's time zone."""
    local = dt.datetime.combine(day, opens_at)
    return (local - dt.timedelta(hours=days.utc_offset_hours)).replace(tzinfo=dt.UTC)


def _clock_due_function(
    views: dict[int, StepView], calendars: _Calendars
) -> Callable[[Leg, dt.date], tuple[dt.date, int]]:
    """The one clock on each step's own unit calendar."""

    def due(leg: Leg, start: dt.date) -> tuple[dt.date, int]:
        view = views[leg.key]
        version, unit = view.version, view.service.unit
        assert version is not None
        days = calendars.days(calendars.calendar_id(unit))
        value = version.processing_time_value or 0
        hours = None
        if version.processing_time_unit not in DAY_UNITS:
            hours = (unit.opens_at, unit.closes_at)
        clock = clock_due(
            days,
            started_at=_started_at(days, start, unit.opens_at),
            promise_value=value,
            promise_unit=version.processing_time_unit,
            service_hours=hours,
        )
        assert clock.due_date is not None
        return clock.due_date, working_days_between(days, start, clock.due_date)

    return due


def _stand_in_due(views: dict[int, StepView]) -> Callable[[Leg, dt.date], tuple[dt.date, int]]:
    """Where the work calendars are not materialised yet: the service page's stand-in
    (weekends and national holidays), so the page still shows a worked example."""

    def due(leg: Leg, start: dt.date) -> tuple[dt.date, int]:
        version = views[leg.key].version
        assert version is not None
        value = version.processing_time_value or 0
        unit = version.processing_time_unit
        ends = example_due_date(start, value, unit) or start
        # The working days the promise spans (the stand-in's own count of them).
        weight = sum(
            1 for n in range(1, (ends - start).days + 1) if is_working_day(start + dt.timedelta(n))
        )
        return ends, weight

    return due


def _journey_start(today: dt.date, calendars: _Calendars) -> dt.date:
    """Today, or the next working day on the national calendar."""
    national = calendars.national()
    if national is not None:
        try:
            days = calendars.days(national.pk)
            first = next(iter(days.working_dates_from(today)), None)
        except ApplicationError:
            first = None
        if first is not None and (first - today).days <= 31:
            return first
    return example_start(today)


def _performance(steps: list[LifeEventStep], today: dt.date) -> dict[int, AgencyPerformance]:
    agency_ids = sorted({step.service.agency_id for step in steps})
    if not agency_ids:
        return {}
    since = today - dt.timedelta(days=ON_TIME_PERIOD_DAYS)
    rows = agency_league(since=since, until=today, agency_ids=agency_ids)
    return {row.agency_id: row for row in rows}


def journey_view(event: LifeEvent, *, today: dt.date | None = None) -> JourneyView:
    """The steps in order, each with its current promise and dates, and the totals."""
    today = today or timezone.localdate()
    steps = list(steps_with_services(event))
    versions = _attach_versions(steps)
    rates = _performance(steps, today)
    by_pk = {step.pk: step for step in steps}
    views: dict[int, StepView] = {}
    for step in steps:
        step.service.unit.agency = step.service.agency
        views[step.pk] = StepView(
            step=step,
            service=step.service,
            version=versions.get(step.service_id),
            # Only earlier steps (as the services enforce), so a row made around them
            # (the shell, the admin) cannot put a cycle in the page's arithmetic.
            needs=sorted(
                (
                    by_pk[d.pk]
                    for d in step.depends_on.all()
                    if d.pk in by_pk and d.order < step.order
                ),
                key=lambda s: s.order,
            ),
            performance=rates.get(step.service.agency_id),
        )
    legs = [
        Leg(
            key=step.pk,
            depends_on=tuple(d.pk for d in views[step.pk].needs),
            counted=views[step.pk].version is not None,
            cost=views[step.pk].cost,
        )
        for step in steps
    ]
    calendars = _Calendars()
    start = _journey_start(today, calendars)
    plan: JourneyPlan | None
    try:
        plan = journey_plan(legs, start=start, due=_clock_due_function(views, calendars))
    except ApplicationError:
        plan = journey_plan(legs, start=start, due=_stand_in_due(views))
    for key, leg_plan in plan.legs.items():
        view = views[key]
        view.start, view.due = leg_plan.start, leg_plan.due
        view.working_days, view.critical = leg_plan.working_days, leg_plan.critical
    ordered = [views[step.pk] for step in steps]
    return JourneyView(
        event=event,
        steps=ordered,
        plan=plan,
        today=today,
        uncounted=[view for view in ordered if view.no_standard],
    )


def services_for_steps() -> QuerySet[Service]:
    """The services a curator may put in a journey: every service, with its agency."""
    return Service.objects.select_related("agency").order_by("agency__name", "name")
