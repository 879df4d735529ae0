"""The staff area's front page: what awaits the signed-in member, across their agencies."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.otp import otp_required_for_privileged
from agencies.policy import Action, agencies_for, has_any
from oversight.breach_list import AGE_BANDS
from staff.selectors import dashboard_figures, dashboard_rows

# The busiest units get a chart each; the table (the charts' text alternative) lists more.
CHARTED_UNITS = 12
TABLED_UNITS = 60


@otp_required_for_privileged
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = dashboard_rows(user=request.user)
    awaiting = [r for r in rows if r.awaiting_approval]
    figures = dashboard_figures(user=request.user, rows=rows)
    return render(
        request,
        "staff/dashboard.html",
        {
            "rows": rows,
            "awaiting": awaiting,
            "figures": figures,
            "age_bands": AGE_BANDS,
            "charted_units": figures.units[:CHARTED_UNITS],
            "tabled_units": figures.units[:TABLED_UNITS],
            "can_create": has_any(request.user, Action.EDIT_STANDARD),
            "managed_agencies": agencies_for(request.user, Action.MANAGE_AGENCY).order_by("name"),
            "is_reviewer": has_any(request.user, Action.DECIDE_BREACH),
            "can_record": has_any(request.user, Action.RECORD_DELIVERY),
        },
    )
