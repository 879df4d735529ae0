"""Reads for the open data documents, through the services app's selectors."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from lifeevents.selectors import grouping_steps_prefetch
from services.models import Service, StandardVersion, VersionStatus
from services.selectors import current_version, service_with_current_version

# Services per batch of the streamed catalogue: each batch costs a fixed number of queries
# (services with agency and unit, their published version, and one per kind of child).
CATALOGUE_BATCH = 500


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
