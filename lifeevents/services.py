"""Writes of life events: create, edit, publish and unpublish a journey; add, change, move and
remove its steps. Only national curators (and superusers) may; every change is recorded in
the history with who made it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.audit import mark_history
from core.errors import ApplicationError, PermissionDeniedError
from lifeevents.journey import JourneyCycleError, Leg, in_dependency_order
from lifeevents.models import EventKind, LifeEvent, LifeEventStep
from lifeevents.selectors import can_curate
from services.models import Service

EVENT_FIELDS = ("kind", "title", "slug", "description")


def _check(acting_user: Any) -> None:
    # A seed or a shell (no acting user) is the back office itself.
    if acting_user is not None and not can_curate(acting_user):
        raise PermissionDeniedError()


def _clean_event(fields: dict[str, Any], *, event: LifeEvent | None) -> None:
    if "kind" in fields and fields["kind"] not in EventKind.values:
        raise ApplicationError(_("Choose a kind of event."), field="kind")
    slug = fields.get("slug")
    if slug is not None:
        taken = LifeEvent.objects.filter(slug=slug)
        if event is not None:
            taken = taken.exclude(pk=event.pk)
        if taken.exists():
            raise ApplicationError(_("Another life event already has this address."), field="slug")


@transaction.atomic
def life_event_create(
    *,
    kind: str,
    title: str,
    slug: str,
    description: str = "",
    acting_user: Any = None,
) -> LifeEvent:
    _check(acting_user)
    fields = {"kind": kind, "title": title, "slug": slug, "description": description}
    _clean_event(fields, event=None)
    event = LifeEvent(**fields, curated_by=acting_user)
    mark_history(event, acting_user)
    event.save()
    return event


@transaction.atomic
def life_event_update(*, event: LifeEvent, acting_user: Any = None, **fields: Any) -> LifeEvent:
    _check(acting_user)
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _clean_event(fields, event=event)
    for name, value in fields.items():
        setattr(event, name, value)
    event.curated_by = acting_user or event.curated_by
    mark_history(event, acting_user)
    event.save()
    return event


@transaction.atomic
def life_event_publish(*, event: LifeEvent, acting_user: Any = None) -> LifeEvent:
    _check(acting_user)
    if not event.steps.exists():
        raise ApplicationError(_("A life event needs at least one step before it is published."))
    event.is_published = True
    mark_history(event, acting_user)
    event.save(update_fields=["is_published", "updated_at"])
    return event


@transaction.atomic
def life_event_unpublish(*, event: LifeEvent, acting_user: Any = None) -> LifeEvent:
    _check(acting_user)
    event.is_published = False
    mark_history(event, acting_user)
    event.save(update_fields=["is_published", "updated_at"])
    return event


def _prerequisites(step: LifeEventStep, depends_on: Iterable[LifeEventStep]) -> list[LifeEventStep]:
    prerequisites = list(depends_on)
    try:
        step.clean_dependencies(prerequisites)
    except Exception as error:  # ValidationError -> the one error type, on its field
        messages = getattr(error, "message_dict", {}).get("depends_on") or [str(error)]
        raise ApplicationError(messages[0], code="invalid_dependency", field="depends_on") from None
    return prerequisites


def _check_acyclic(event: LifeEvent) -> None:
    """The event's whole graph, once more: no change may leave a cycle behind."""
    edges: dict[int, list[int]] = {}
    for step_id, needed_id in LifeEventStep.depends_on.through.objects.filter(
        from_lifeeventstep__event=event
    ).values_list("from_lifeeventstep_id", "to_lifeeventstep_id"):
        edges.setdefault(step_id, []).append(needed_id)
    legs = [
        Leg(key=pk, depends_on=tuple(edges.get(pk, ())))
        for pk in event.steps.values_list("pk", flat=True)
    ]
    try:
        in_dependency_order(legs)
    except JourneyCycleError:
        raise ApplicationError(
            _("These dependencies would go round in a circle."),
            code="cycle",
            field="depends_on",
        ) from None


def _touch(event: LifeEvent, acting_user: Any) -> None:
    mark_history(event, acting_user)
    event.save(update_fields=["updated_at"])


@transaction.atomic
def life_event_step_add(
    *,
    event: LifeEvent,
    service: Service,
    note: str = "",
    depends_on: Iterable[LifeEventStep] = (),
    acting_user: Any = None,
) -> LifeEventStep:
    _check(acting_user)
    last = event.steps.aggregate(last=Max("order"))["last"] or 0
    step = LifeEventStep(event=event, order=last + 1, service=service, note=note)
    prerequisites = _prerequisites(step, depends_on)
    mark_history(step, acting_user)
    step.save()
    step.depends_on.set(prerequisites)
    _check_acyclic(event)
    _touch(event, acting_user)
    return step


@transaction.atomic
def life_event_step_update(
    *,
    step: LifeEventStep,
    service: Service,
    note: str = "",
    depends_on: Iterable[LifeEventStep] = (),
    acting_user: Any = None,
) -> LifeEventStep:
    _check(acting_user)
    prerequisites = _prerequisites(step, depends_on)
    step.service, step.note = service, note
    mark_history(step, acting_user)
    step.save()
    step.depends_on.set(prerequisites)
    _check_acyclic(step.event)
    _touch(step.event, acting_user)
    return step


@transaction.atomic
def life_event_step_move(*, step: LifeEventStep, up: bool, acting_user: Any = None) -> None:
    """Swap a step with its neighbour; a step never moves above a step it needs."""
    _check(acting_user)
    siblings = step.event.steps.select_for_update()
    neighbour = (
        siblings.filter(order__lt=step.order).order_by("-order").first()
        if up
        else siblings.filter(order__gt=step.order).order_by("order").first()
    )
    if neighbour is None:
        return
    earlier, later = (neighbour, step) if up else (step, neighbour)
    if later.depends_on.filter(pk=earlier.pk).exists():
        raise ApplicationError(
            _("A step cannot come before a step whose result it needs."), code="order"
        )
    first, second = earlier.order, later.order
    # Through a free number, so the unique (event, order) holds at every statement.
    LifeEventStep.objects.filter(pk=earlier.pk).update(order=0)
    LifeEventStep.objects.filter(pk=later.pk).update(order=first)
    LifeEventStep.objects.filter(pk=earlier.pk).update(order=second)
    _touch(step.event, acting_user)


@transaction.atomic
def life_event_step_remove(*, step: LifeEventStep, acting_user: Any = None) -> None:
    """Remove a step; the steps that needed it keep needing what it needed."""
    _check(acting_user)
    event = step.event
    inherited = list(step.depends_on.all())
    for dependant in step.needed_by.all():
        dependant.depends_on.add(*inherited)
    mark_history(step, acting_user)
    step.delete()
    if event.is_published and not event.steps.exists():
        event.is_published = False
        event.save(update_fields=["is_published", "updated_at"])
    _touch(event, acting_user)
