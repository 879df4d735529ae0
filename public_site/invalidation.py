"""What makes a cached public page stale (core.page_cache): the registry's writes.

Each model below is one the public pages show. Saving or deleting a row replaces the
generation of its agency's pages (`agency:<slug>`) or, for what many agencies' pages show
(calendars, locations and counters, life events), the `shared` one; either also replaces
`all`, which the pages listing several agencies depend on. Deliveries are not here: the
performance figures they feed are refreshed per period (core.page_cache).

The generation is replaced at once and again after the transaction commits: at once, so that
the writer's next request (and a test inside one transaction) sees the change; after commit,
because a visitor's request between the first replacement and the commit could otherwise
cache the old data under the new generation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

from agencies.models import Agency, Calendar, CalendarException, Counter, Location, Unit
from cases.models import Case, CorrectiveAction, Finding
from charter.models import Charter
from compliance.models import Assessment
from core.page_cache import SHARED, agency_generation, page_generations_bump
from lifeevents.models import LifeEvent, LifeEventStep
from services.models import Service, StandardVersion

AgencyOf = Callable[[Any], "int | None"]


def _by_unit(unit_id: int | None) -> int | None:
    if unit_id is None:
        return None
    return Unit.objects.filter(pk=unit_id).values_list("agency_id", flat=True).first()


def _by_service(service_id: int | None) -> int | None:
    if service_id is None:
        return None
    return Service.objects.filter(pk=service_id).values_list("agency_id", flat=True).first()


def _by_case(case_id: int | None) -> int | None:
    if case_id is None:
        return None
    return Case.objects.filter(pk=case_id).values_list("agency_id", flat=True).first()


# Model -> its agency's id (None: what several agencies' pages show).
AGENCY_OF: dict[type[models.Model], AgencyOf | None] = {
    Agency: lambda agency: agency.pk,
    Unit: lambda unit: unit.agency_id,
    Service: lambda service: service.agency_id,
    StandardVersion: lambda version: _by_service(version.service_id),
    Charter: lambda charter: _by_unit(charter.unit_id),
    Case: lambda case: case.agency_id,
    Finding: lambda finding: _by_case(finding.case_id),
    CorrectiveAction: lambda action: action.agency_id,
    Assessment: lambda assessment: assessment.agency_id,
    Calendar: None,
    CalendarException: None,
    Location: None,
    Counter: None,
    LifeEvent: None,
    LifeEventStep: None,
}


def generations_of(instance: models.Model) -> list[str]:
    """The generations a change of `instance` makes stale (besides `all`)."""
    agency_of = AGENCY_OF.get(type(instance))
    agency_id = agency_of(instance) if agency_of is not None else None
    if agency_id is None:
        return [SHARED]
    names = [SHARED] if isinstance(instance, Agency) else []  # a renamed agency: every page
    slug = getattr(instance, "slug", None) if isinstance(instance, Agency) else None
    if slug is None:
        slug = Agency.objects.filter(pk=agency_id).values_list("slug", flat=True).first()
    if slug is None:  # the agency is being deleted
        return [SHARED]
    return [*names, agency_generation(slug)]


def _changed(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    names = generations_of(instance)
    page_generations_bump(names)
    transaction.on_commit(lambda: page_generations_bump(names))


def connect() -> None:
    for model in AGENCY_OF:
        uid = f"public_site.invalidation:{model._meta.label}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete")
