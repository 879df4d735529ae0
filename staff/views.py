from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agencies.policy import Action, has_any
from staff.selectors import dashboard_rows


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = dashboard_rows(user=request.user)
    awaiting = [r for r in rows if r.awaiting_approval]
    return render(
        request,
        "staff/dashboard.html",
        {
            "rows": rows,
            "awaiting": awaiting,
            "can_create": has_any(request.user, Action.EDIT_STANDARD),
        },
    )
