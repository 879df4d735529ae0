"""The league of agencies: filtered, scored and ranked in one SQL query, exactly as the page
rounds the figures it shows."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.urls import reverse

from agencies.models import Agency
from services.search import StandardsFigures, standards_figures
from services.selectors import (
    PERCENT_TIES_DOWN,
    TENTHS_TIES_DOWN,
    agency_list_by_completeness,
    rounded_as_displayed_sql,
)
from tests import factories
from tests.registry import publish_service


def _in_sql(pairs: list[tuple[int, int]], *, scale: int, ties_down: frozenset[int]) -> list[int]:
    rows = ", ".join(f"({n}, {d}, {i})" for i, (n, d) in enumerate(pairs))
    expression = rounded_as_displayed_sql("n", "d", scale=scale, ties_down=ties_down)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression} FROM (VALUES {rows}) AS t(n, d, i) ORDER BY i")
        return [value for (value,) in cursor.fetchall()]


def test_sql_rounding_is_the_rounding_the_page_shows(db: Any) -> None:
    shares = [
        (complete, published) for published in range(101) for complete in range(published + 1)
    ]
    percents = _in_sql(shares, scale=100, ties_down=PERCENT_TIES_DOWN)
    expected = [StandardsFigures(published=p, complete=c).complete_percent or 0 for c, p in shares]
    assert percents == expected
    # Every score total a group of up to 60 standards can have (14 components each), so
    # every half there is (x.x5 is total/20): 12.25 -> 12.2, 12.35 -> 12.3, 12.75 -> 12.8,
    # following Python's rounding of the binary value.
    totals = [(total, published) for published in range(61) for total in range(14 * published + 1)]
    tenths = _in_sql(totals, scale=10, ties_down=TENTHS_TIES_DOWN)
    expected = [
        round(10 * (StandardsFigures(published=p, score_total=s).mean_score or 0))
        for s, p in totals
    ]
    assert tenths == expected


def _publish_scores(agency: Any, scores: list[int]) -> None:
    """Published standards with these completeness scores (13: no product; 12: nor staff)."""
    unit = factories.UnitFactory(agency=agency)
    blanks: dict[int, dict[str, Any]] = {
        14: {},
        13: {"product": ""},
        12: {"product": "", "staff_count": None},
    }
    for i, score in enumerate(scores):
        publish_service(agency, unit, f"{agency.name} {i}", **blanks[score])


def _ranked_in_python(agencies: list[Agency]) -> list[Agency]:
    """The league's order as it was computed in Python before: the slow twin."""
    figures = standards_figures(by="agency")
    rows = [(agency, figures.get(agency.pk, StandardsFigures())) for agency in agencies]
    rows.sort(
        key=lambda row: (
            row[1].published == 0,
            -(row[1].complete_percent or 0),
            -(row[1].mean_score or 0),
            -row[1].published,
            row[0].name,
        )
    )
    return [agency for agency, _ in rows]


def test_agencies_showing_the_same_figures_are_ranked_by_the_next_key(db: Any) -> None:
    # 49/4 = 12.25 shows as 12.2, like 61/5: the agency with more standards comes first
    # (rounding half up, or ranking by the exact mean, would put "Dinas Empat" first).
    four = factories.AgencyFactory(name="Dinas Empat")
    five = factories.AgencyFactory(name="Dinas Lima")
    _publish_scores(four, [13, 12, 12, 12])
    _publish_scores(five, [13, 12, 12, 12, 12])
    complete = factories.AgencyFactory(name="Dinas Lengkap")
    _publish_scores(complete, [14, 12])
    empty_upper = factories.AgencyFactory(name="Dinas Zeta")
    empty_lower = factories.AgencyFactory(name="Dinas alfa")  # after "Z" in Python's order
    rows = agency_list_by_completeness()
    ranked = [agency for agency, _ in rows]
    assert ranked == [complete, five, four, empty_upper, empty_lower]
    assert ranked == _ranked_in_python(list(Agency.objects.all()))
    shown = {agency.name: (f.published, f.complete_percent, f.mean_score) for agency, f in rows}
    assert shown["Dinas Empat"] == (4, 0, 12.2) and shown["Dinas Lima"] == (5, 0, 12.2)
    assert shown["Dinas Lengkap"] == (2, 50, 13.0) and shown["Dinas Zeta"] == (0, None, None)


def test_the_league_filters_in_the_database(db: Any, django_assert_num_queries: Any) -> None:
    bandung = factories.AgencyFactory(name="Dinas Bandung", level="city", region_name="Bandung")
    factories.AgencyFactory(name="Dinas Jabar", level="province", region_name="Jawa Barat")
    _publish_scores(bandung, [14])
    with django_assert_num_queries(1):
        rows = agency_list_by_completeness(region="Bandung", level="city")
    assert [(agency, f.published) for agency, f in rows] == [(bandung, 1)]
    assert agency_list_by_completeness(region="Bandung", level="province") == []


def test_the_region_filter_offers_each_region_once_in_order(client: Any, db: Any) -> None:
    for name, region in [("A", "Kota Bandung"), ("B", "Kotabaru"), ("C", "Kota Bandung")]:
        factories.AgencyFactory(name=f"Dinas {name}", region_name=region)
    factories.AgencyFactory(name="Dinas Tanpa Wilayah", region_name="")
    form = client.get(reverse("public:league")).context["form"]
    assert [value for value, _ in form.fields["region"].choices] == ["", "Kota Bandung", "Kotabaru"]
