"""The public side: the method pages (with their editable defaults flagged), the scorecard
(frozen figures, trend), the league ranked by the published opinion, the streamed exports,
all open to anyone and at a query count flat in the data's size."""

from __future__ import annotations

import csv
import io
from typing import cast

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from compliance import services
from compliance.models import AssessmentMethod
from tests import factories
from tests.registry import publish_service

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["kepatuhan-2021", "kepatuhan-2022", "opini-2025"])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_method_pages_are_open_and_flag_unsourced_cut_offs(client, code, prefix):
    response = client.get(f"{prefix}/compliance/methods/{code}/")
    assert response.status_code == 200
    html = response.content.decode()
    method = AssessmentMethod.objects.get(code=code)
    unsourced = method.bands.filter(sourced=False).count()
    unsourced += method.dimensions.filter(weight_sourced=False).count()
    assert html.count('data-unsourced="1"') == unsourced
    assert 'data-missing-policy="excluded"' in html
    sep = "," if prefix == "" else "."  # Indonesian writes 21,85

    def shown(number):
        return number.replace(".", sep)

    if code == "kepatuhan-2022":
        assert unsourced == 3  # C, D, E
        for weight in ("21.85%", "32.37%", "24.24%", "21.54%", "88.00", "78.00"):
            assert shown(weight) in html
    if code == "kepatuhan-2021":
        assert unsourced == 0
        assert shown("81.00") in html and shown("51.00") in html


def test_unknown_method_is_404(client, db):
    assert client.get("/compliance/methods/nope/").status_code == 404


def _publish(agency, ombudsman, method, year, checklist=3):
    assessment = services.assessment_create(
        method=method, agency=agency, year=year, acting_user=ombudsman
    )
    for result in assessment.indicator_results.exclude(kind="computed"):
        if result.kind == "checklist":
            services.result_record(result=result, value=checklist, acting_user=ombudsman)
        else:
            services.result_record(result=result, positive=2, asked=2, acting_user=ombudsman)
    services.period_publish(method=method, period=str(year), acting_user=ombudsman)
    assessment.refresh_from_db()
    return assessment


def test_scorecard_shows_dimensions_figures_and_trend(
    client, ombudsman, agency_a, published_a, method_2022
):
    old = _publish(agency_a, ombudsman, method_2022, 2023, checklist=1)
    new = _publish(agency_a, ombudsman, method_2022, 2024, checklist=3)
    response = client.get(f"/en/agencies/{agency_a.slug}/compliance/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-score="{new.score}"' in html
    assert 'data-period="2023"' in html and 'data-period="2024"' in html
    assert str(old.score) in html
    assert "1 of 1 published standards complete" in html
    assert html.count('<h2 id="dimension-') == 4
    # The agency page links to it.
    assert (
        f"/agencies/{agency_a.slug}/compliance/"
        in client.get(f"/agencies/{agency_a.slug}/").content.decode()
    )


def test_scorecard_without_publication(client, agency_a, assessment_a):
    html = client.get(f"/en/agencies/{agency_a.slug}/compliance/").content.decode()
    assert "has not published an assessment" in html  # a draft is never shown


def test_league_ranks_by_the_published_opinion(client, ombudsman, method_2022):
    agencies = []
    for i, checklist in enumerate([1, 3, 2]):
        agency = cast(Agency, factories.AgencyFactory(name=f"Dinas {i}"))
        unit = factories.UnitFactory(agency=agency)
        publish_service(agency, unit, f"Layanan {i}")
        agencies.append((agency, checklist))
    html = client.get("/en/agencies/").content.decode()
    assert "Compliance opinion" not in html  # nothing published yet: the old league
    for agency, checklist in agencies:
        services.assessment_create(
            method=method_2022, agency=agency, year=2025, acting_user=ombudsman
        )
        assessment = agency.assessments.get()
        for result in assessment.indicator_results.filter(kind="checklist"):
            services.result_record(result=result, value=checklist, acting_user=ombudsman)
    services.period_publish(method=method_2022, period="2025", acting_user=ombudsman)
    response = client.get("/en/agencies/")
    rows = response.context["rows"]
    assert [a.name for a, _ in rows] == ["Dinas 1", "Dinas 2", "Dinas 0"]
    scores = [a.compliance_opinion.score for a, _ in rows]
    assert scores == sorted(scores, reverse=True)
    html = response.content.decode()
    assert "Compliance opinion" in html
    assert 'data-zone="' in html


def _world(n, ombudsman, method):
    for i in range(n):
        agency = cast(Agency, factories.AgencyFactory())
        unit = factories.UnitFactory(agency=agency)
        publish_service(agency, unit, f"Layanan {i}")
        services.assessment_create(method=method, agency=agency, year=2025, acting_user=ombudsman)
    services.period_publish(method=method, period="2025", acting_user=ombudsman)


@pytest.mark.parametrize("n", [2, 6])
def test_league_query_count_is_flat(client, ombudsman, method_2022, n, django_assert_num_queries):
    _world(n, ombudsman, method_2022)
    # agencies and figures; on-time rates; the published opinions (then cached).
    with django_assert_num_queries(4):
        client.get("/agencies/")
    with django_assert_num_queries(2):
        client.get("/agencies/")


@pytest.mark.parametrize("periods", [1, 3])
def test_scorecard_query_count_is_flat(
    client, ombudsman, agency_a, published_a, method_2022, periods
):
    for year in range(2022, 2022 + periods):
        _publish(agency_a, ombudsman, method_2022, year)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/agencies/{agency_a.slug}/compliance/").status_code == 200
    # agency; trend; dimensions; indicators; evidence
    assert len(queries) == 5


def test_exports_stream_the_published_scores(client, ombudsman, agency_a, published_a, method_2022):
    assessment = _publish(agency_a, ombudsman, method_2022, 2025)
    response = client.get("/compliance/scores.csv")
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["period", "method", "agency"]
    assert len(rows) == 1 + 4  # one per dimension
    assert {row[5] for row in rows[1:]} == {str(assessment.score)}
    response = client.get("/compliance/scores.xlsx")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "period" and len(values) == 5


def test_export_reads_in_chunks(ombudsman, method_2022, django_assert_max_num_queries):
    from compliance.selectors import export_rows

    _world(3, ombudsman, method_2022)
    with django_assert_max_num_queries(1):
        rows = list(export_rows(chunk_size=2))
    assert len(rows) == 12


def test_the_sitemap_lists_published_scorecards_and_the_methods(
    client, ombudsman, agency_a, agency_b, published_a, method_2022
):
    _publish(agency_a, ombudsman, method_2022, 2024)
    body = client.get("/sitemap.xml").content.decode()
    assert f"/agencies/{agency_a.slug}/compliance/</loc>" in body
    # Agency B has no published assessment: no scorecard to list.
    assert f"/agencies/{agency_b.slug}/compliance/</loc>" not in body
    for code in ("kepatuhan-2021", "kepatuhan-2022", "opini-2025"):
        assert f"/compliance/methods/{code}/</loc>" in body
