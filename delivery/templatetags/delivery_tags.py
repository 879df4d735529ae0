"""Delivery figures for pages of lower apps (services, agencies), which must not import the
delivery app: the performance panel, the league's on-time rates, one scope's on-time figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings

from delivery.figures import league_rates, panel_figures, scope_figures
from delivery.selectors import AgencyPerformance, MonthFigures, PerformanceFigures

register = template.Library()


# The monthly chart's geometry, in SVG user units (the chart scales to its box).
CHART_LEFT = 40
CHART_TOP = 10
CHART_PLOT_HEIGHT = 120
CHART_SLOT = 40
CHART_BAR = 26


@dataclass(frozen=True)
class ChartBar:
    month: MonthFigures
    x: int  # left edge of the bar
    center: int  # for the month label
    y: int  # top of the bar
    height: int  # 0 when the month's rate is withheld or there is none


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    baseline: int
    label_y: int
    bar_width: int
    gridlines: list[tuple[int, int]]  # (percent, y)
    bars: list[ChartBar]


def month_chart(months: Sequence[MonthFigures]) -> Chart | None:
    """Bars of the monthly on-time share, for a server-rendered SVG (None with no data)."""
    if not any(month.completed for month in months):
        return None
    baseline = CHART_TOP + CHART_PLOT_HEIGHT
    bars = []
    for index, month in enumerate(months):
        x = CHART_LEFT + index * CHART_SLOT + (CHART_SLOT - CHART_BAR) // 2
        percent = month.on_time_percent
        height = 0 if percent is None else round(CHART_PLOT_HEIGHT * percent / 100)
        bars.append(
            ChartBar(
                month=month,
                x=x,
                center=x + CHART_BAR // 2,
                y=baseline - height,
                height=height,
            )
        )
    right = CHART_LEFT + len(months) * CHART_SLOT
    return Chart(
        width=right + 4,
        height=baseline + 24,
        left=CHART_LEFT,
        right=right,
        baseline=baseline,
        label_y=baseline + 16,
        bar_width=CHART_BAR,
        gridlines=[(p, baseline - CHART_PLOT_HEIGHT * p // 100) for p in (0, 50, 100)],
        bars=bars,
    )


@register.inclusion_tag("delivery/public/_performance.html")
def performance_panel(service: Any = None, unit: Any = None, agency: Any = None) -> dict[str, Any]:
    """The scope's figures as computed ahead by the schedule (delivery/figures.py)."""
    panel = panel_figures(service=service, unit=unit, agency=agency)
    return {
        "performance": panel.figures,
        "periods": panel.periods,
        "months": panel.months,
        "chart": month_chart(panel.months),
    }


@register.simple_tag
def agency_on_time_rates() -> dict[int, AgencyPerformance]:
    """`{% agency_on_time_rates as rates %}`: every agency's on-time rate and sample size over
    the last year, by agency id, as computed ahead by the schedule (delivery/figures.py)."""
    return league_rates().rates


@register.filter
def on_time_for(rates: Mapping[int, AgencyPerformance], agency: Any) -> AgencyPerformance | None:
    """`{% with performance=rates|on_time_for:agency %}`: one agency's row, or None."""
    if not isinstance(rates, Mapping) or agency is None:
        return None
    return rates.get(getattr(agency, "pk", agency))


@register.simple_tag
def on_time_figures(
    service: Any = None, unit: Any = None, agency: Any = None
) -> PerformanceFigures:
    """`{% on_time_figures unit=unit as performance %}`: the figures the performance panel
    shows for the same scope and period (the same precomputed snapshot)."""
    return scope_figures(service=service, unit=unit, agency=agency)


@register.simple_tag
def delivery_min_sample() -> int:
    """`{% delivery_min_sample as min_sample %}`: the fewest completed requests a rate needs."""
    return int(settings.MAKLUMAT["MIN_SAMPLE"])
