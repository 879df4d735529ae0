"""The performance panel include renders the figures, and says why a rate is withheld."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string

from delivery.selectors import MonthFigures, PerformanceFigures, RateWithheld

PERIOD: dict[str, Any] = {"since": dt.date(2026, 1, 1), "until": dt.date(2026, 6, 30)}


def test_panel_shows_the_rate_and_the_months():
    performance = PerformanceFigures(
        **PERIOD,
        completed=40,
        on_time=30,
        on_time_rate=0.75,
        rate_withheld=RateWithheld.NONE,
        min_sample=30,
        median_days=3.0,
        p90_days=8.5,
        promise_value=5,
        promise_unit="working_days",
        overcharged=2,
        open=7,
        open_overdue=3,
    )
    months = [
        MonthFigures(dt.date(2026, 5, 1), 35, 28, 0.8),
        MonthFigures(dt.date(2026, 6, 1), 5, 2, None),
    ]
    html = render_to_string(
        "delivery/public/_performance.html", {"performance": performance, "months": months}
    )
    assert "75%" in html and ("8,5" in html or "8.5" in html) and "80%" in html
    assert "<caption>" in html
    assert "too few to judge" not in html


def test_panel_withholds_a_small_sample_and_says_why():
    from django.utils import translation

    translation.activate("en")  # reset by the autouse fixture after the test
    performance = PerformanceFigures(
        **PERIOD, completed=4, on_time=4, rate_withheld=RateWithheld.SMALL_SAMPLE, min_sample=30
    )
    html = render_to_string("delivery/public/_performance.html", {"performance": performance})
    assert "100%" not in html
    assert "too few to judge" in html
    empty = render_to_string(
        "delivery/public/_performance.html", {"performance": PerformanceFigures(**PERIOD)}
    )
    assert "No data yet" in empty
