"""The performance panel as an inclusion tag, so lower apps' pages can show it
without importing the delivery app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from delivery.selectors import performance_by_month, performance_figures

register = template.Library()


@register.inclusion_tag("delivery/public/_performance.html")
def performance_panel(service: Any = None, unit: Any = None, agency: Any = None) -> dict[str, Any]:
    today = timezone.localdate()
    scope = {"service": service, "unit": unit, "agency": agency}
    return {
        "performance": performance_figures(
            **scope, since=today - dt.timedelta(days=365), until=today
        ),
        "months": performance_by_month(**scope, until=today),
    }
