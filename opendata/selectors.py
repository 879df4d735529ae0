"""Reads for the open data documents, through the services app's selectors."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Prefetch, Q, QuerySet

from agencies.licences import DEFAULT_LICENCE, Licence, licence
from agencies.locations import locations_public
from agencies.models import Agency, Counter, Location
from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.selectors import grouping_steps_prefetch
from services.models import Service, StandardVersion, VersionStatus
from services.selectors import current_version, service_with_current_version

# Services per batch of the streamed catalogue: each batch costs a fixed number of queries
# (services with agency and unit, their published version, and one per kind of child).
CATALOGUE_BATCH = 500


def agencies_with_own_licence() -> list[tuple[str, str, Licence]]:
    """The agencies whose open data is under another licence than the default, by name:
    (name, public page, licence). One query."""
    rows = (
        Agency.objects.exclude(open_data_licence=DEFAULT_LICENCE.id)
        .order_by("name", "pk")
        .values_list("name", "slug", "open_data_licence")
    )
    return [
        (name, Agency(slug=slug).get_absolute_url(), licence(licence_id))
        for name, slug, licence_id in rows
    ]


def _published_services() -> QuerySet[Service]:
    # The life events each service is a step of: one more query a document or a batch.
    return Service.objects.filter(versions__status=VersionStatus.PUBLISHED).prefetch_related(
        grouping_steps_prefetch()
    )


def cpsv_service_get(*, pk: int) -> tuple[Service, StandardVersion]:
    """One service with its current published version and content, in a fixed number of
    queries. Raises Service.DoesNotExist when it has no published version."""
    service = service_with_current_version(_published_services()).get(pk=pk)
    version = current_version(service)
    if version is None:  # published between the two reads and withdrawn since
        raise Service.DoesNotExist
    return service, version


def cpsv_catalogue_batches(
    *, batch_size: int = CATALOGUE_BATCH
) -> Iterator[list[tuple[Service, StandardVersion]]]:
    """Every published service, in batches by primary key (keyset, so that each batch is
    the same fixed number of queries however deep into the catalogue)."""
    last = 0
    while True:
        services = list(
            service_with_current_version(_published_services().filter(pk__gt=last)).order_by("pk")[
                :batch_size
            ]
        )
        if not services:
            return
        last = services[-1].pk
        yield [
            (service, version)
            for service in services
            if (version := current_version(service)) is not None
        ]
        if len(services) < batch_size:
            return


def locations_with_counters() -> QuerySet[Location]:
    """Open locations with their host and the counters of open units (`open_counters`,
    with unit and agency): two queries for any number of them (API and bulk data)."""
    return (
        locations_public()
        .select_related("host_agency")
        .prefetch_related(
            Prefetch(
                "counters",
                queryset=Counter.objects.filter(unit__is_active=True)
                .select_related("unit__agency")
                .order_by("unit__agency__name", "unit__name", "pk"),
                to_attr="open_counters",
            )
        )
    )


def life_events_with_steps() -> QuerySet[LifeEvent]:
    """Published life events with their steps in order (`public_steps`: service, agency and
    unit; `published_count` > 0 when the service has a published standard) and each step's
    prerequisites: three queries for any number of them (API and bulk data)."""
    steps = (
        LifeEventStep.objects.select_related("service__agency", "service__unit")
        .annotate(
            published_count=Count(
                "service__versions",
                filter=Q(service__versions__status=VersionStatus.PUBLISHED),
            )
        )
        .prefetch_related(
            Prefetch("depends_on", queryset=LifeEventStep.objects.only("pk", "order", "event"))
        )
        .order_by("order", "pk")
    )
    return LifeEvent.objects.filter(is_published=True).prefetch_related(
        Prefetch("steps", queryset=steps, to_attr="public_steps")
    )


def step_needs(step: LifeEventStep) -> list[int]:
    """The orders of the earlier steps of the same event this step needs (as the public
    page reads them: a later or foreign step is never a prerequisite)."""
    return sorted(
        d.order
        for d in step.depends_on.all()
        if d.event_id == step.event_id and d.order < step.order
    )
