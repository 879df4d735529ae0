"""On-time figures over the last 3, 6 and 12 months, and the panel's monthly bar chart."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from delivery.selectors import (
    MonthFigures,
    PerformanceFigures,
    PeriodFigures,
    RateWithheld,
    months_before,
    performance_figures,
    performance_periods,
)
from delivery.services import delivery_record
from delivery.templatetags.delivery_tags import month_chart
from tests.delivery.conftest import wib

D = dt.date


@pytest.fixture
def min_sample(settings: Any) -> Any:
    def set_to(value: int) -> None:
        settings.MAKLUMAT = {**settings.MAKLUMAT, "MIN_SAMPLE": value}

    return set_to


def record(service: Any, ref: str, submitted_at: dt.datetime, completed_at: dt.datetime) -> Any:
    return delivery_record(
        service=service, reference=ref, submitted_at=submitted_at, completed_at=completed_at
    )[0]


@pytest.fixture
def spread(service_a: Any) -> Any:
    """Until 30 April 2026: 4 in April (3 on time), 2 in December 2025 (1 on time),
    1 in June 2025 (on time), 1 in March 2025 (outside every period)."""
    for n in range(3):
        record(service_a, f"APR{n}", wib(2026, 4, 6 + n), wib(2026, 4, 6 + n, 15))
    assert not record(service_a, "APR3", wib(2026, 4, 1), wib(2026, 4, 28)).is_on_time
    record(service_a, "DEC0", wib(2025, 12, 1), wib(2025, 12, 1, 15))
    assert not record(service_a, "DEC1", wib(2025, 12, 1), wib(2025, 12, 30, 15)).is_on_time
    record(service_a, "JUN0", wib(2025, 6, 2), wib(2025, 6, 2, 15))
    record(service_a, "MAR0", wib(2025, 3, 3), wib(2025, 3, 3, 15))
    return service_a


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 4, 30), 3, D(2026, 1, 30)),
        (D(2026, 5, 31), 3, D(2026, 2, 28)),
        (D(2024, 5, 31), 3, D(2024, 2, 29)),
        (D(2026, 1, 15), 12, D(2025, 1, 15)),
        (D(2026, 3, 31), 1, D(2026, 2, 28)),
    ],
)
def test_months_before_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert months_before(day, months) == expected


def test_periods_count_each_window_in_one_query(spread, agency_a, min_sample):
    min_sample(1)
    with CaptureQueriesContext(connection) as queries:
        periods = performance_periods(agency=agency_a, until=D(2026, 4, 30))
    assert len(queries) == 1
    assert [(p.months, p.since, p.until) for p in periods] == [
        (3, D(2026, 1, 30), D(2026, 4, 30)),
        (6, D(2025, 10, 30), D(2026, 4, 30)),
        (12, D(2025, 4, 30), D(2026, 4, 30)),
    ]
    assert [(p.completed, p.on_time) for p in periods] == [(4, 3), (6, 4), (7, 5)]
    assert [p.on_time_percent for p in periods] == [75, 67, 71]
    # Each period agrees with the figures of the same dates.
    for period in periods:
        figures = performance_figures(
            agency=agency_a, since=period.since, until=period.until, use_cache=False
        )
        assert (figures.completed, figures.on_time) == (period.completed, period.on_time)


def test_periods_apply_the_minimum_sample_to_each_period(spread, min_sample):
    min_sample(5)
    three, six, twelve = performance_periods(service=spread, until=D(2026, 4, 30))
    assert (three.completed, three.on_time_rate, three.rate_withheld) == (
        4,
        None,
        RateWithheld.SMALL_SAMPLE,
    )
    assert three.rate_hidden_for_small_sample and three.min_sample == 5
    assert (six.on_time_percent, six.rate_withheld) == (67, RateWithheld.NONE)
    assert twelve.on_time_percent == 71
    nothing = performance_periods(service=spread, until=D(2025, 1, 31), months=(1,))
    assert [(p.completed, p.rate_withheld) for p in nothing] == [(0, RateWithheld.NO_DATA)]


def test_periods_are_cached_and_reject_an_empty_period(spread, unit_a, min_sample):
    min_sample(1)
    first = performance_periods(unit=unit_a, until=D(2026, 4, 30))
    record(spread, "APR9", wib(2026, 4, 20), wib(2026, 4, 20, 15))
    with CaptureQueriesContext(connection) as queries:
        assert performance_periods(unit=unit_a, until=D(2026, 4, 30)) == first
    assert len(queries) == 0
    fresh = performance_periods(unit=unit_a, until=D(2026, 4, 30), use_cache=False)
    assert fresh[0].completed == first[0].completed + 1
    with pytest.raises(ValueError):
        performance_periods(unit=unit_a, until=D(2026, 4, 30), months=(0, 3))


def _months() -> list[MonthFigures]:
    return [
        MonthFigures(D(2026, 1, 1), 0, 0, None),
        MonthFigures(D(2026, 2, 1), 40, 30, 0.75),
        MonthFigures(D(2026, 3, 1), 4, 4, None),  # withheld: too few
        MonthFigures(D(2026, 4, 1), 50, 50, 1.0),
    ]


def test_month_chart_scales_the_bars_to_the_share_on_time():
    chart = month_chart(_months())
    assert chart is not None
    heights = [bar.height for bar in chart.bars]
    assert heights == [0, 90, 0, 120]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert len({bar.x for bar in chart.bars}) == 4
    assert month_chart([MonthFigures(D(2026, 1, 1), 0, 0, None)]) is None


def test_panel_draws_the_chart_described_by_the_months_table_and_the_periods():
    translation.activate("en")  # reset by the autouse fixture after the test
    period: dict[str, Any] = {"until": D(2026, 4, 30), "min_sample": 30}
    performance = PerformanceFigures(
        since=D(2025, 4, 30),
        until=D(2026, 4, 30),
        completed=94,
        on_time=84,
        on_time_rate=84 / 94,
        rate_withheld=RateWithheld.NONE,
        min_sample=30,
    )
    periods = [
        PeriodFigures(
            3, D(2026, 1, 30), completed=4, on_time=4, rate_withheld="small_sample", **period
        ),
        PeriodFigures(
            6,
            D(2025, 10, 30),
            completed=44,
            on_time=34,
            on_time_rate=34 / 44,
            rate_withheld="",
            **period,
        ),
        PeriodFigures(12, D(2025, 4, 30), **period),
    ]
    months = _months()
    html = render_to_string(
        "delivery/public/_performance.html",
        {
            "performance": performance,
            "periods": periods,
            "months": months,
            "chart": month_chart(months),
        },
    )
    svg = re.search(r"<svg .*?</svg>", html, re.S)
    assert svg
    assert 'role="img"' in svg.group(0)
    assert 'aria-describedby="performance-months"' in svg.group(0)
    assert 'id="performance-months"' in html  # the table the chart points to
    assert re.findall(r'<rect [^>]*height="(\d+)"', svg.group(0)) == ["90", "120"]
    flat = re.sub(r"\s+", " ", html)
    assert (
        'Last 3 months</dt><dd> — <span class="muted small">(withheld: too few deliveries, 4 of the 30 needed)'
        in flat
    )
    assert 'Last 6 months</dt><dd> 77% <span class="muted small">(34 of 44)' in flat
    assert 'Last 12 months</dt><dd> — <span class="muted small">(no completed request)' in flat


def test_service_page_panel_shows_the_periods(client, service_a, min_sample):
    min_sample(2)
    now = timezone.now()
    for n in range(3):
        start = now - dt.timedelta(days=20 + n)
        record(service_a, f"R{n}", start, start + dt.timedelta(hours=1))
    with translation.override("en"):
        url = service_a.get_absolute_url()
    html = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert 'Last 3 months</dt><dd> 100% <span class="muted small">(3 of 3)' in html
    assert '<svg viewBox="0 0' in html and 'aria-describedby="performance-months"' in html
