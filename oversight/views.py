from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.otp import otp_required_for_privileged
from oversight.models import BreachKind, BreachStatus
from oversight.selectors import breach_list_for_staff, sweep_runs_recent


@otp_required_for_privileged
def breach_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    kind = kind if kind in BreachKind.values else ""
    status = status if status in BreachStatus.values else ""
    page = Paginator(
        breach_list_for_staff(user=request.user, kind=kind, status=status), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/breach_list.html",
        {
            "page": page,
            "kinds": BreachKind.choices,
            "statuses": BreachStatus.choices,
            "kind": kind,
            "status": status,
            "runs": sweep_runs_recent(10),
        },
    )
