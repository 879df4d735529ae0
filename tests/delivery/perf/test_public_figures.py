"""Public pages of lower apps show on-time figures through the delivery template tags."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from delivery.services import delivery_record
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service


@pytest.fixture
def min_sample(settings: Any) -> None:
    settings.MAKLUMAT = {**settings.MAKLUMAT, "MIN_SAMPLE": 3}


@pytest.fixture
def last_year(service_a: Any, agency_b: Any, unit_b: Any) -> Any:
    """Dinas A: 3 of 4 on time in the last year (and one old late one); Dinas B: 1 request."""
    start = timezone.now() - dt.timedelta(days=40)
    for n in range(3):  # done within the hour: on time
        delivery_record(
            service=service_a,
            reference=f"A{n}",
            submitted_at=start,
            completed_at=start + dt.timedelta(hours=1),
        )
    late, _ = delivery_record(
        service=service_a,
        reference="A-late",
        submitted_at=start,
        completed_at=timezone.now() - dt.timedelta(days=1),
    )
    assert late.is_on_time is False
    # More than a year ago: outside the period.
    delivery_record(
        service=service_a,
        reference="A-old",
        submitted_at=wib(2025, 6, 2),
        completed_at=wib(2025, 8, 1),
    )
    other = make_service(agency_b, unit_b, name="Lain", slug="lain")
    make_published(other, published_at=wib(2025, 1, 2))
    delivery_record(
        service=other,
        reference="B1",
        submitted_at=start,
        completed_at=start + dt.timedelta(hours=1),
    )
    return service_a


def _english(url: Any, *args: Any) -> str:
    """A URL of the English site (the new strings are not translated yet)."""
    with translation.override("en"):
        return str(url(*args))


def _row(html: str, name: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if f">{name}</a>" in row]
    assert len(rows) == 1, name
    return rows[0]


def _cells(row: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_league_shows_each_agencys_on_time_rate_and_sample(client, last_year, min_sample):
    html = client.get(_english(reverse, "public:league")).content.decode()
    on_time_a = _cells(_row(html, "Dinas A"))[-1]
    assert on_time_a.startswith("75%")
    assert "4 completed requests" in on_time_a
    on_time_b = _cells(_row(html, "Dinas B"))[-1]
    assert "%" not in on_time_b
    assert "Withheld: too few deliveries (1 completed)" in on_time_b
    assert "It is withheld below 3 completed requests" in html


def test_league_shows_no_rate_without_deliveries(client, service_a, agency_b, min_sample):
    html = client.get(_english(reverse, "public:league")).content.decode()
    assert "%" not in _cells(_row(html, "Dinas A"))[-1]
    assert "Withheld" not in html


def test_agency_and_unit_figures_show_the_on_time_rate(
    client, last_year, agency_a, unit_a, agency_b, min_sample
):
    def figures_section(url: str) -> str:
        html = client.get(url).content.decode()
        match = re.search(r'<section aria-labelledby="figures-heading">.*?</section>', html, re.S)
        assert match
        return re.sub(r"\s+", " ", match.group(0))

    agency = figures_section(_english(agency_a.get_absolute_url))
    assert "75% <span" in agency and "3 of 4 completed requests" in agency
    unit = figures_section(_english(unit_a.get_absolute_url))
    assert "75% <span" in unit and "3 of 4 completed requests" in unit
    other = figures_section(_english(agency_b.get_absolute_url))
    assert "withheld: too few deliveries, 1 completed" in other
    assert "%" not in other.split("On-time rate", 1)[1]
