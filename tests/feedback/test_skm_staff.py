"""The unit's staff answer suggestions and write the follow-up planned; the share of
suggestions answered shows on the unit's SKM pages, and the follow-up in the printable
report (HTML and PDF)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import Role
from feedback.elements import ELEMENTS
from feedback.models import SkmFollowUp, SurveyChannel, SurveyResponse
from feedback.selectors import skm_periods, skm_report
from tests import factories
from tests.accounts.conftest import login_verified
from tests.charter import pdftext
from tests.feedback.conftest import wib

pytestmark = pytest.mark.django_db

PERIOD = "2026-Q1"
PLAN = "Menambah loket pada jam sibuk mulai April 2026."


def _response(unit: Any, index: int, *, suggestion: str = "", period: str = PERIOD) -> Any:
    return SurveyResponse.objects.create(
        agency_id=unit.agency_id,
        unit=unit,
        channel=SurveyChannel.OPEN,
        device=f"{index:064d}",
        period=period,
        submitted_at=wib(2026, 2, 1 + index % 20),
        suggestion=suggestion,
        **{element.field: 3 for element in ELEMENTS},
    )


@pytest.fixture
def surveyed(unit_a: Any) -> list[Any]:
    return [
        _response(unit_a, 0, suggestion="Antrean terlalu lama"),
        _response(unit_a, 1, suggestion="Parkir sempit"),
        _response(unit_a, 2),
    ]


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


def _period_url(unit: Any, period: str = PERIOD) -> str:
    return reverse("skm_staff:period", kwargs={"unit_pk": unit.pk, "period": period})


def _report_url(unit: Any, *, pdf: bool = False) -> str:
    return reverse(
        "feedback:unit_report_pdf" if pdf else "feedback:unit_report",
        kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug, "period": PERIOD},
    )


def test_answering_suggestions_gives_the_share_answered(
    surveyed: list[Any], editor_a: Any, unit_a: Any
) -> None:
    client = _client(editor_a)
    first = surveyed[0]
    response = client.post(
        reverse("skm_staff:answer", args=[first.pk]),
        {f"s{first.pk}-answer": "Kami tambah satu loket."},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.suggestion_answer == "Kami tambah satu loket."
    assert first.suggestion_answered_by == editor_a
    answered_at = first.suggestion_answered_at
    # Answering again changes the text, not when it was first answered.
    client.post(reverse("skm_staff:answer", args=[first.pk]), {f"s{first.pk}-answer": "Dua loket."})
    first.refresh_from_db()
    assert first.suggestion_answer == "Dua loket." and first.suggestion_answered_at == answered_at
    (period,) = skm_periods(unit=unit_a)
    assert (period.suggestions, period.suggestions_answered) == (2, 1)
    assert period.suggestions_answered_share == 50
    # The unit's public SKM page and report show it; the report shows the answer.
    results = Client().get(
        reverse(
            "feedback:unit_results",
            kwargs={"agency_slug": unit_a.agency.slug, "unit_slug": unit_a.slug},
        )
    )
    assert "data-suggestions-answered>50% (1 dari 2)" in results.content.decode()
    html = Client().get(_report_url(unit_a)).content.decode()
    assert "data-suggestions-answered>50%" in html and "Dua loket." in html
    assert "Dua loket." in pdftext.text(Client().get(_report_url(unit_a, pdf=True)).content)
    staff_html = client.get(_period_url(unit_a)).content.decode()
    assert "data-suggestions-answered>50%" in staff_html


def test_no_suggestions_means_no_share(unit_a: Any) -> None:
    _response(unit_a, 5)
    (period,) = skm_periods(unit=unit_a)
    assert period.suggestions_answered_share is None


def test_the_follow_up_plan_is_printed_in_the_report(
    surveyed: list[Any], admin_a: Any, unit_a: Any
) -> None:
    html = Client().get(_report_url(unit_a)).content.decode()
    assert "data-follow-up-missing" in html
    client = _client(admin_a)
    url = reverse("skm_staff:follow_up", kwargs={"unit_pk": unit_a.pk, "period": PERIOD})
    assert client.post(url, {"plan": PLAN}).status_code == 302
    assert client.post(url, {"plan": PLAN + " Diperbarui."}).status_code == 302
    follow_up = SkmFollowUp.objects.get(unit=unit_a, period=PERIOD)
    assert follow_up.plan == PLAN + " Diperbarui." and follow_up.updated_by == admin_a
    assert follow_up.history.count() == 2
    assert skm_report(unit=unit_a, period=PERIOD).follow_up == PLAN + " Diperbarui."
    html = Client().get(_report_url(unit_a)).content.decode()
    assert "data-follow-up>" in html and PLAN in html
    text = pdftext.text(Client().get(_report_url(unit_a, pdf=True)).content)
    assert "Tindak lanjut yang direncanakan" in text
    assert "Menambah loket pada jam sibuk" in " ".join(text.split())
    # A period nobody answered can still carry a plan, and its report shows it.
    assert SkmFollowUp.objects.filter(period="2026-Q2").count() == 0


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"plan": ""}, "harus diisi"),
        ({"plan": "   "}, "harus diisi"),
        ({"plan": "x" * 5001}, "pastikan"),
    ],
)
def test_bad_follow_up_gets_a_field_error_in_indonesian(
    data: dict[str, str], words: str, surveyed: list[Any], editor_a: Any, unit_a: Any
) -> None:
    response = _client(editor_a).post(
        reverse("skm_staff:follow_up", kwargs={"unit_pk": unit_a.pk, "period": PERIOD}), data
    )
    assert response.status_code == 400
    html = response.content.decode()
    error = html.split('id="id_plan_error"', 1)[1].split("</div>", 1)[0]
    assert words in error.lower()
    assert not SkmFollowUp.objects.exists()


def test_bad_answers_are_refused(surveyed: list[Any], editor_a: Any) -> None:
    client = _client(editor_a)
    first, _second, without = surveyed
    response = client.post(
        reverse("skm_staff:answer", args=[first.pk]), {f"s{first.pk}-answer": "  "}
    )
    assert response.status_code == 400
    assert f'id="id_s{first.pk}-answer_error"' in response.content.decode()
    # A response without a suggestion has nothing to answer (and is not listed: the error
    # is shown at the top of the page).
    response = client.post(
        reverse("skm_staff:answer", args=[without.pk]), {f"s{without.pk}-answer": "Terima kasih"}
    )
    assert response.status_code == 400
    assert "tidak memuat saran" in response.content.decode()
    without.refresh_from_db()
    assert without.suggestion_answer == "" and without.suggestion_answered_at is None


@pytest.mark.parametrize("period", ["2026-Q5", "2026Q1", "x"])
def test_a_bad_period_is_404(period: str, editor_a: Any, unit_a: Any) -> None:
    assert _client(editor_a).get(_period_url(unit_a, period)).status_code == 404


@pytest.mark.parametrize(
    ("who", "page", "post"),
    [
        ("admin_a", 200, 302),
        ("editor_a", 200, 302),
        ("admin_b", 404, 404),
        ("editor_b", 404, 404),
        ("ombudsman", 403, 403),
        ("anonymous", 302, 302),
    ],
)
def test_permission_matrix(
    who: str, page: int, post: int, surveyed: list[Any], unit_a: Any, request: Any
) -> None:
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = _client(user)
    response = client.get(_period_url(unit_a))
    assert response.status_code == page
    if who == "anonymous":
        assert "login" in response["Location"]
    first = surveyed[0]
    response = client.post(
        reverse("skm_staff:answer", args=[first.pk]), {f"s{first.pk}-answer": "Jawaban."}
    )
    assert response.status_code == post
    response = client.post(
        reverse("skm_staff:follow_up", kwargs={"unit_pk": unit_a.pk, "period": PERIOD}),
        {"plan": PLAN},
    )
    assert response.status_code == post
    first.refresh_from_db()
    wrote = post == 302 and who != "anonymous"
    assert (first.suggestion_answer == "Jawaban.") is wrote
    assert SkmFollowUp.objects.filter(unit=unit_a).exists() is wrote
    index = client.get(reverse("skm_staff:index"))
    if who in ("admin_a", "editor_a"):
        assert index.status_code == 200 and PERIOD in index.content.decode()
    elif who in ("admin_b", "editor_b", "ombudsman"):
        assert index.status_code == 200 and unit_a.name not in index.content.decode()


def test_unit_staff_answer_only_for_their_unit(surveyed: list[Any], unit_a: Any) -> None:
    other_unit = factories.UnitFactory(agency=unit_a.agency, name="Unit Lain")
    other = _response(other_unit, 9, suggestion="Ruang tunggu panas")
    user = factories.UserFactory(username="unit_editor_a")
    factories.MembershipFactory(user=user, agency=unit_a.agency, unit=unit_a, role=Role.EDITOR)
    client = _client(user)
    assert client.get(_period_url(unit_a)).status_code == 200
    assert client.get(_period_url(other_unit)).status_code == 404
    response = client.post(
        reverse("skm_staff:answer", args=[other.pk]), {f"s{other.pk}-answer": "Tidak boleh."}
    )
    assert response.status_code == 404


def test_staff_pages_queries_do_not_grow_with_data(
    surveyed: list[Any], editor_a: Any, unit_a: Any
) -> None:
    client = _client(editor_a)

    def counted(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = (counted(_period_url(unit_a)), counted(reverse("skm_staff:index")))
    for index in range(10, 70):
        _response(unit_a, index, suggestion=f"Saran {index}")
        _response(unit_a, index + 100, period="2025-Q4")
    large = (counted(_period_url(unit_a)), counted(reverse("skm_staff:index")))
    assert small == large
    assert large[0] <= 12 and large[1] <= 8, large
