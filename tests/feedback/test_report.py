"""The printable SKM report of a unit for a period: HTML (print CSS) and PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from delivery.services import delivery_record
from feedback.elements import ELEMENTS
from feedback.models import SurveyChannel, SurveyResponse
from feedback.reports import skm_report_pdf
from feedback.selectors import skm_report
from tests.charter import pdftext

pytestmark = pytest.mark.django_db

PERIOD = "2026-Q1"

# Three answers, by hand (U1..U9):
#   4 4 4 4 4 4 4 4 4
#   3 3 3 1 3 3 3 3 3
#   4 3 2 2 4 3 4 3 4
# sums 11 10 9 7 11 10 11 10 11 (total 90); NRR 3.67 3.33 3.00 2.33 3.67 3.33 3.67 3.33 3.67;
# IKM = 90 / 27 = 3.3333; converted 83.33 -> B; lowest U4 (7/3 = 2.33).
# Ten requests completed in the quarter: Krejcie-Morgan needs 10, three answered: too small.
SCORES = (
    (4, 4, 4, 4, 4, 4, 4, 4, 4),
    (3, 3, 3, 1, 3, 3, 3, 3, 3),
    (4, 3, 2, 2, 4, 3, 4, 3, 4),
)
EXPECTED_NRR = ("3.67", "3.33", "3.00", "2.33", "3.67", "3.33", "3.67", "3.33", "3.67")
SECRET_DEVICE = "d" * 64
JAKARTA = dt.timezone(dt.timedelta(hours=7))


def wib(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 9, tzinfo=JAKARTA)


def _both(value: str) -> tuple[str, str]:
    """A decimal as Django may show it: "3,3333" in Indonesian, "3.3333" in English."""
    return value, value.replace(".", ",")


def _has(text: str, value: str) -> bool:
    return any(v in text for v in _both(value))


@pytest.fixture
def surveyed(service_a: Any) -> Any:
    deliveries = [
        delivery_record(
            service=service_a,
            reference=f"REF-SECRET-{n}",
            submitted_at=wib(2026, 2, 1 + n),
            completed_at=wib(2026, 2, 2 + n),
        )[0]
        for n in range(10)
    ]
    profiles: tuple[dict[str, str], ...] = (
        {"age_band": "20_29", "sex": "female", "education": "bachelor", "occupation": "private"},
        {"age_band": "20_29", "sex": "male", "education": "senior", "occupation": "private"},
        {},
    )
    suggestions = ("Antrean terlalu lama", "", "Parkir sempit")
    for index, (scores, profile, suggestion) in enumerate(
        zip(SCORES, profiles, suggestions, strict=True)
    ):
        after_request = index == 0
        SurveyResponse.objects.create(
            agency_id=service_a.agency_id,
            unit_id=service_a.unit_id,
            service=service_a,
            delivery=deliveries[0] if after_request else None,
            channel=SurveyChannel.AFTER_REQUEST if after_request else SurveyChannel.OPEN,
            device="" if after_request else SECRET_DEVICE[:-1] + str(index),
            period=PERIOD,
            submitted_at=wib(2026, 3, 1 + index),
            suggestion=suggestion,
            **profile,
            **{element.field: score for element, score in zip(ELEMENTS, scores, strict=True)},
        )
    # Another period's answer must not count in this one.
    SurveyResponse.objects.create(
        agency_id=service_a.agency_id,
        unit_id=service_a.unit_id,
        channel=SurveyChannel.OPEN,
        device="e" * 64,
        period="2026-Q2",
        submitted_at=wib(2026, 4, 2),
        suggestion="Dari triwulan lain",
        **{element.field: 1 for element in ELEMENTS},
    )
    return service_a.unit, deliveries[0]


def _url(unit: Any, period: str, *, pdf: bool = False) -> str:
    name = "feedback:unit_report_pdf" if pdf else "feedback:unit_report"
    return reverse(
        name, kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug, "period": period}
    )


def test_report_figures_match_the_hand_computed_example(surveyed: Any) -> None:
    unit, _delivery = surveyed
    report = skm_report(unit=unit, period=PERIOD)
    assert report.figures is not None
    result = report.figures.result
    assert result.respondents == 3
    assert [str(value) for value in result.nrr_shown] == list(EXPECTED_NRR)
    assert str(result.ikm_shown) == "3.3333"
    assert str(result.converted_shown) == "83.33"
    assert result.grade == "B"
    assert [row.element.code for row in report.figures.elements if row.lowest] == ["U4"]
    assert (report.figures.population, report.figures.required_sample) == (10, 10)
    assert report.figures.sample_reached is False
    assert (report.start, report.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    profile = {
        group.field: {count.value: count.count for count in group.counts}
        for group in report.profile
    }
    assert profile["age_band"]["20_29"] == 2 and profile["age_band"][""] == 1
    assert (profile["sex"]["female"], profile["sex"]["male"], profile["sex"][""]) == (1, 1, 1)
    assert (profile["education"]["bachelor"], profile["education"]["senior"]) == (1, 1)
    assert profile["occupation"]["private"] == 2 and profile["occupation"]["student"] == 0
    for counts in profile.values():
        assert sum(counts.values()) == 3
    assert [s.text for s in report.suggestions] == ["Antrean terlalu lama", "Parkir sempit"]
    assert [s.answer for s in report.suggestions] == ["", ""]
    assert report.follow_up == ""


def test_html_report_shows_the_figures_and_no_identity(client: Any, surveyed: Any) -> None:
    unit, delivery = surveyed
    response = client.get(_url(unit, PERIOD))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-respondents>3<" in html
    assert "data-grade>B<" in html and "(Baik)" in html
    assert _has(html, "83.33") and _has(html, "3.3333")
    for code, nrr in zip((e.code for e in ELEMENTS), EXPECTED_NRR, strict=True):
        assert any(f'data-nrr="{code}">{v}' in html for v in _both(nrr)), code
    assert html.count("data-lowest") == 2  # the row, and the list
    assert "terlalu kecil" in html  # the sample: 3 of the 10 needed
    assert "diperlukan sedikitnya 10 responden untuk 10 permohonan selesai" in html
    assert "Antrean terlalu lama" in html and "Parkir sempit" in html
    assert "Dari triwulan lain" not in html
    for secret in (delivery.tracking_code, delivery.reference, SECRET_DEVICE[:-1]):
        assert secret not in html
    assert _url(unit, PERIOD, pdf=True) in html


def test_pdf_parses_and_carries_the_figures(client: Any, surveyed: Any) -> None:
    unit, delivery = surveyed
    response = client.get(_url(unit, PERIOD, pdf=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert pdftext.page_sizes(pdf)
    text = pdftext.text(pdf)
    assert "LAPORAN HASIL SURVEI KEPUASAN MASYARAKAT" in text
    assert unit.name in text and PERIOD in text
    assert _has(text, "83.33") and _has(text, "3.3333")
    for nrr in EXPECTED_NRR:
        assert _has(text, nrr), nrr
    assert "B (Baik)" in text
    assert "Antrean terlalu lama" in text and "Parkir sempit" in text
    assert "Dari triwulan lain" not in text
    for secret in (delivery.tracking_code, delivery.reference):
        assert secret not in text


def test_pdf_follows_the_language(surveyed: Any) -> None:
    unit, _delivery = surveyed
    report = skm_report(unit=unit, period=PERIOD)
    with translation.override("en"):
        text = pdftext.text(skm_report_pdf(report=report, url="https://x.example/r/"))
    assert "Good" in text and "too small" in text and "83.33" in text


def test_empty_period_gives_a_clear_page(client: Any, surveyed: Any) -> None:
    unit, _delivery = surveyed
    response = client.get(_url(unit, "2025-Q4"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-empty" in html and "data-grade" not in html
    pdf = client.get(_url(unit, "2025-Q4", pdf=True))
    assert pdf.status_code == 200
    assert "Tidak ada jawaban survei pada periode ini" in pdftext.text(pdf.content)


@pytest.mark.parametrize("period", ["2026-Q5", "2026-Q0", "2026Q1", "26-Q1", "x", "2026-q1"])
def test_bad_period_is_404(client: Any, surveyed: Any, period: str) -> None:
    unit, _delivery = surveyed
    assert client.get(_url(unit, period)).status_code == 404
    assert client.get(_url(unit, period, pdf=True)).status_code == 404


def test_unknown_unit_is_404(client: Any, surveyed: Any) -> None:
    unit, _delivery = surveyed
    url = reverse(
        "feedback:unit_report",
        kwargs={"agency_slug": unit.agency.slug, "unit_slug": "no-such-unit", "period": PERIOD},
    )
    assert client.get(url).status_code == 404


def test_results_page_links_the_report(client: Any, surveyed: Any) -> None:
    unit, _delivery = surveyed
    html = client.get(
        reverse(
            "feedback:unit_results",
            kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug},
        )
    ).content.decode()
    # The latest period (2026-Q2) as the report link, and every period in the trend.
    assert _url(unit, "2026-Q2") in html and _url(unit, "2026-Q2", pdf=True) in html
    assert _url(unit, PERIOD) in html


def test_report_query_count_does_not_grow_with_data(
    client: Any, surveyed: Any, django_assert_num_queries: Any
) -> None:
    unit, _delivery = surveyed
    # The unit, the follow-up plan, the grouped scores, the completed requests, the
    # profile, the suggestions.
    with django_assert_num_queries(6):
        assert client.get(_url(unit, PERIOD)).status_code == 200
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            agency_id=unit.agency_id,
            unit_id=unit.pk,
            channel=SurveyChannel.OPEN,
            device=f"{index:064d}",
            period=PERIOD,
            submitted_at=wib(2026, 3, 20),
            suggestion=f"Saran {index}",
            **{element.field: 1 + (index + n) % 4 for n, element in enumerate(ELEMENTS)},
        )
        for index in range(200)
    )
    with django_assert_num_queries(6):
        assert client.get(_url(unit, PERIOD)).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(_url(unit, PERIOD, pdf=True)).status_code == 200
    # An empty period: the unit, the follow-up plan, the grouped scores and requests of the
    # other periods.
    with django_assert_num_queries(4):
        assert client.get(_url(unit, "2025-Q4")).status_code == 200
