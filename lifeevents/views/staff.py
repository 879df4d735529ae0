"""Staff pages of life events.

National curators (and superusers) create, edit, order and publish journeys; agency staff
read the journeys their agency's services are part of. Every permission decision is the
policy's (`can_curate`: a grant of CURATE_LIFE_EVENTS everywhere); every write a function of
lifeevents/services.py. A journey a person may not see is 404; one they may see but not
change is 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.policy import Action, has_any
from core.errors import ApplicationError
from lifeevents import services as writes
from lifeevents.forms import LifeEventForm, StepForm
from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.selectors import (
    can_curate,
    life_event_list_for_staff,
    services_for_steps,
    steps_with_services,
)


def _event_for_reading(request: HttpRequest, pk: int) -> LifeEvent:
    return get_object_or_404(life_event_list_for_staff(user=request.user), pk=pk)


def _event_for_curating(request: HttpRequest, pk: int) -> LifeEvent:
    """The event, if the user curates; 403 if they may only read it; 404 otherwise."""
    event = _event_for_reading(request, pk)
    if not can_curate(request.user):
        raise PermissionDenied
    return event


def _step_for_curating(request: HttpRequest, pk: int, step_pk: int) -> LifeEventStep:
    event = _event_for_curating(request, pk)
    step = get_object_or_404(event.steps.select_related("service"), pk=step_pk)
    step.event = event
    return step


def _apply_error(form: Any, error: ApplicationError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
def life_event_list(request: HttpRequest) -> HttpResponse:
    curator = can_curate(request.user)
    if not curator and not has_any(request.user, Action.VIEW_PRIVATE):
        raise PermissionDenied
    return render(
        request,
        "lifeevents/staff_list.html",
        {"events": life_event_list_for_staff(user=request.user), "curator": curator},
    )


@login_required
def life_event_create(request: HttpRequest) -> HttpResponse:
    if not can_curate(request.user):
        raise PermissionDenied
    form = LifeEventForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            event = writes.life_event_create(**form.cleaned_data, acting_user=request.user)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The life event was saved. Add its steps."))
            return redirect("life_events_staff:detail", pk=event.pk)
    return render(request, "lifeevents/staff_form.html", {"form": form, "event": None})


def _step_form(
    event: LifeEvent, *, step: LifeEventStep | None = None, data: Any = None
) -> StepForm:
    earlier = event.steps.select_related("service").order_by("order")
    if step is not None:
        earlier = earlier.filter(order__lt=step.order)
    initial = {}
    if step is not None:
        initial = {
            "service": step.service_id,
            "note": step.note,
            "depends_on": list(step.depends_on.values_list("pk", flat=True)),
        }
    return StepForm(
        data,
        services=services_for_steps(),
        earlier=earlier,
        initial=initial,
        prefix="step",
    )


def _render_detail(
    request: HttpRequest,
    event: LifeEvent,
    *,
    form: LifeEventForm | None = None,
    step_form: StepForm | None = None,
    status: int = 200,
) -> HttpResponse:
    curator = can_curate(request.user)
    context: dict[str, Any] = {
        "event": event,
        "steps": list(steps_with_services(event)),
        "curator": curator,
    }
    if curator:
        context["form"] = form or LifeEventForm.for_event(event)
        context["step_form"] = step_form or _step_form(event)
    return render(request, "lifeevents/staff_detail.html", context, status=status)


@login_required
def life_event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return _render_detail(request, _event_for_reading(request, pk))
    event = _event_for_curating(request, pk)
    form = LifeEventForm.for_event(event, request.POST)
    if form.is_valid():
        try:
            writes.life_event_update(event=event, acting_user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The life event was saved."))
            return redirect("life_events_staff:detail", pk=event.pk)
    return _render_detail(request, event, form=form, status=400)


@login_required
@require_POST
def life_event_publish(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_for_curating(request, pk)
    publish = request.POST.get("publish") == "1"
    try:
        if publish:
            writes.life_event_publish(event=event, acting_user=request.user)
        else:
            writes.life_event_unpublish(event=event, acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The life event is published.") if publish else _("The life event is unpublished."),
        )
    return redirect("life_events_staff:detail", pk=event.pk)


@login_required
@require_POST
def step_add(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_for_curating(request, pk)
    form = _step_form(event, data=request.POST)
    if form.is_valid():
        try:
            writes.life_event_step_add(
                event=event,
                service=form.cleaned_data["service"],
                note=form.cleaned_data["note"],
                depends_on=form.cleaned_data.get("depends_on") or [],
                acting_user=request.user,
            )
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The step was added."))
            return redirect("life_events_staff:detail", pk=event.pk)
    return _render_detail(request, event, step_form=form, status=400)


@login_required
def step_edit(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for_curating(request, pk, step_pk)
    form = _step_form(
        step.event, step=step, data=request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            writes.life_event_step_update(
                step=step,
                service=form.cleaned_data["service"],
                note=form.cleaned_data["note"],
                depends_on=form.cleaned_data.get("depends_on") or [],
                acting_user=request.user,
            )
        except ApplicationError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The step was saved."))
            return redirect("life_events_staff:detail", pk=step.event.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "lifeevents/staff_step.html",
        {"event": step.event, "step": step, "form": form},
        status=status,
    )


@login_required
@require_POST
def step_move(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for_curating(request, pk, step_pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        raise Http404
    try:
        writes.life_event_step_move(step=step, up=direction == "up", acting_user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("life_events_staff:detail", pk=step.event.pk)


@login_required
@require_POST
def step_remove(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for_curating(request, pk, step_pk)
    writes.life_event_step_remove(step=step, acting_user=request.user)
    messages.success(request, _("The step was removed."))
    return redirect("life_events_staff:detail", pk=step.event.pk)
