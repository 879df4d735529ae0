"""The public pages of life events: the list, and one journey with its steps and totals."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core.page_cache import public_page
from lifeevents.models import EventKind, LifeEvent
from lifeevents.selectors import journey_view, life_event_get_public, life_event_list_public


@require_safe
@public_page()
def life_event_list(request: HttpRequest) -> HttpResponse:
    events = list(life_event_list_public())
    return render(
        request,
        "lifeevents/public_list.html",
        {
            "groups": [
                (_("Life events"), [e for e in events if e.kind == EventKind.LIFE]),
                (_("Business events"), [e for e in events if e.kind == EventKind.BUSINESS]),
            ]
        },
    )


@require_safe
@public_page()
def life_event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        event = life_event_get_public(slug=slug)
    except LifeEvent.DoesNotExist:
        raise Http404 from None
    return render(request, "lifeevents/public_detail.html", {"journey": journey_view(event)})
