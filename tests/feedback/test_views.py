"""The survey's public pages: after a request, the open survey, the results."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from feedback.elements import ELEMENTS
from feedback.models import SurveyChannel, SurveyResponse
from feedback.views.public import DEVICE_COOKIE, SURVEY_RATE

pytestmark = pytest.mark.django_db

ALL_FOURS = {element.field: "4" for element in ELEMENTS}


def answers(**overrides: str) -> dict[str, str]:
    return {**ALL_FOURS, **overrides}


def _after(delivery: Any) -> str:
    return reverse("feedback:after_request", kwargs={"code": delivery.tracking_code})


def _open(unit: Any) -> str:
    return reverse(
        "feedback:open", kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug}
    )


def _results(unit: Any) -> str:
    return reverse(
        "feedback:unit_results", kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug}
    )


# --- From the tracking page -------------------------------------------------------------


def test_tracking_page_offers_the_survey_once_the_request_is_completed(
    client: Any, completed: Any, open_request: Any
) -> None:
    html = client.get(reverse("track:detail", args=[completed.tracking_code])).content.decode()
    assert _after(completed) in html
    html = client.get(reverse("track:detail", args=[open_request.tracking_code])).content.decode()
    assert "feedback" not in html and _after(open_request) not in html


def test_the_questionnaire_shows_each_elements_own_answer_words(
    client: Any, completed: Any
) -> None:
    html = client.get(_after(completed)).content.decode()
    # Indonesian first: cost runs from "sangat mahal" to "gratis", time from "tidak cepat".
    for words in ("Sangat mahal", "Gratis", "Tidak cepat", "Sangat cepat", "Dikelola dengan baik"):
        assert words in html, words
    assert html.count('type="radio"') == 9 * 4


def test_one_response_per_request(client: Any, completed: Any) -> None:
    response = client.post(_after(completed), answers(score_cost="3", suggestion="Antrean lama"))
    assert response.status_code == 302
    assert response["Location"] == _results(completed.unit)
    saved = SurveyResponse.objects.get()
    assert saved.delivery == completed
    assert saved.channel == SurveyChannel.AFTER_REQUEST
    assert saved.scores == (4, 4, 4, 3, 4, 4, 4, 4, 4)
    assert saved.suggestion == "Antrean lama"
    assert (saved.unit, saved.service) == (completed.unit, completed.service)
    again = client.post(_after(completed), answers(score_cost="1"))
    assert again.status_code == 200
    assert "sudah mengisi" in again.content.decode().lower()
    assert SurveyResponse.objects.count() == 1
    html = client.get(reverse("track:detail", args=[completed.tracking_code])).content.decode()
    assert _after(completed) not in html


def test_open_request_cannot_answer_yet(client: Any, open_request: Any) -> None:
    response = client.post(_after(open_request), answers())
    assert response.status_code == 409
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("code", ["ABCDEFGHJK", "x", "0000000000", "A" * 40])
def test_unknown_code_is_404(client: Any, completed: Any, code: str) -> None:
    assert client.get(reverse("feedback:after_request", args=[code])).status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"score_time": ""},
        {"score_time": "5"},
        {"score_time": "0"},
        {"score_time": "abc"},
        {"score_time": "3.5"},
        {"age_band": "99"},
        {"suggestion": "x" * 2001},
        {"suggestion": "bad\x00text"},
    ],
)
def test_bad_input_gives_field_errors_in_indonesian(
    client: Any, completed: Any, bad: dict[str, str]
) -> None:
    data = answers(**bad)
    if bad.get("score_time") == "":
        del data["score_time"]
    response = client.post(_after(completed), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Perbaiki" in html or "perbaiki" in html  # "Please correct the errors below."
    assert "field-error" in html
    assert "Please correct" not in html
    assert not SurveyResponse.objects.exists()


def test_missing_answer_names_the_question(client: Any, completed: Any) -> None:
    data = answers()
    del data["score_cost"]
    html = client.post(_after(completed), data).content.decode()
    assert "Pilih satu jawaban untuk pertanyaan ini." in html


def test_honeypot_is_thanked_and_not_counted(client: Any, completed: Any) -> None:
    response = client.post(_after(completed), answers(website="http://spam.example"))
    assert response.status_code == 302
    assert not SurveyResponse.objects.exists()


# --- The open survey ----------------------------------------------------------------------


def test_open_survey_one_response_per_device_and_period(client: Any, service_a: Any) -> None:
    unit = service_a.unit
    page = client.get(_open(unit))
    assert page.status_code == 200
    assert DEVICE_COOKIE in page.cookies
    assert "Izin Usaha" in page.content.decode()  # the unit's services to choose from
    response = client.post(_open(unit), answers(service=str(service_a.pk)))
    assert response.status_code == 302
    saved = SurveyResponse.objects.get()
    assert (saved.channel, saved.service, saved.delivery) == ("open", service_a, None)
    assert len(saved.device) == 64
    # The cookie's token is not stored, only its keyed hash.
    assert client.cookies[DEVICE_COOKIE].value.split(":")[0] not in saved.device
    again = client.post(_open(unit), answers())
    assert again.status_code == 200
    assert SurveyResponse.objects.count() == 1
    # Another device (a new client, no cookie) may answer once it has the form's cookie.
    other = client.__class__()
    assert other.post(_open(unit), answers()).status_code == 400  # no cookie: refused
    other.get(_open(unit))
    assert other.post(_open(unit), answers()).status_code == 302
    assert SurveyResponse.objects.count() == 2


def test_a_forged_device_cookie_is_ignored(client: Any, service_a: Any) -> None:
    client.cookies[DEVICE_COOKIE] = "forged"
    response = client.post(_open(service_a.unit), answers())
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_open_survey_of_an_unknown_unit_is_404(client: Any, db: Any) -> None:
    assert client.get("/survey/nope/nope/").status_code == 404


def test_survey_posts_are_rate_limited(client: Any, service_a: Any, settings: Any) -> None:
    limit = int(SURVEY_RATE.split("/")[0])
    unit = service_a.unit
    for _ in range(limit):
        fresh = client.__class__()
        fresh.get(_open(unit))
        assert fresh.post(_open(unit), answers()).status_code == 302
    fresh = client.__class__()
    fresh.get(_open(unit))
    response = fresh.post(_open(unit), answers())
    assert response.status_code == 429
    assert SurveyResponse.objects.count() == limit


# --- Results ------------------------------------------------------------------------------


def test_results_page_shows_the_new_result(client: Any, completed: Any) -> None:
    empty = client.get(_results(completed.unit))
    assert empty.status_code == 200
    assert "data-grade" not in empty.content.decode()
    client.post(_after(completed), answers(score_cost="1", score_time="2"))
    html = client.get(_results(completed.unit)).content.decode()
    # (4*7 + 1 + 2) / 9 = 31/9 = 3.4444; x 25 = 86.11 -> B.
    assert "data-grade>B<" in html
    assert "86,11" in html or "86.11" in html
    assert "3,4444" in html or "3.4444" in html
    assert html.count("data-lowest") == 1  # U4 cost, the one scored 1
    # One respondent for one completed request: the required sample (1) is reached.
    assert "cukup" in html.lower()


def _seed_responses(service: Any, count: int, *, periods: list[str], start: int = 0) -> None:
    import datetime as dt

    from feedback.periods import period_bounds

    rows = []
    for index in range(start, start + count):
        period = periods[index % len(periods)]
        rows.append(
            SurveyResponse(
                agency_id=service.agency_id,
                unit_id=service.unit_id,
                service=service,
                channel=SurveyChannel.OPEN,
                device=f"{index:064d}",
                period=period,
                submitted_at=dt.datetime.combine(
                    period_bounds(period)[0], dt.time(10), tzinfo=dt.UTC
                ),
                **{element.field: 1 + (index + n) % 4 for n, element in enumerate(ELEMENTS)},
            )
        )
    SurveyResponse.objects.bulk_create(rows)


def test_results_page_query_count_does_not_grow_with_data(
    client: Any, service_a: Any, django_assert_max_num_queries: Any
) -> None:
    unit = service_a.unit
    service_url = reverse(
        "feedback:service_results",
        kwargs={
            "agency_slug": unit.agency.slug,
            "unit_slug": unit.slug,
            "service_slug": service_a.slug,
        },
    )
    _seed_responses(service_a, 3, periods=["2026-Q1"])
    with django_assert_max_num_queries(4):
        small = client.get(_results(unit))
    assert small.status_code == 200
    _seed_responses(service_a, 400, periods=["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"], start=3)
    with django_assert_max_num_queries(4):
        large = client.get(_results(unit))
    html = large.content.decode()
    assert html.count('<tr><th scope="row">20') == 4  # four periods in the trend
    assert service_url in html
    with django_assert_max_num_queries(4):
        assert client.get(service_url).status_code == 200


def test_results_split_open_survey_from_after_request(client: Any, completed: Any) -> None:
    client.post(_after(completed), answers())
    client.get(_open(completed.unit))
    client.post(_open(completed.unit), answers(score_cost="1"))
    html = client.get(_results(completed.unit)).content.decode()
    assert "data-channels" in html
    assert "Survei terbuka" in html and "Setelah permohonan" in html
    assert "1 di antaranya melalui survei terbuka (50%)" in html


def test_unit_page_links_its_survey_and_results(client: Any, service_a: Any) -> None:
    unit = service_a.unit
    html = client.get(unit.get_absolute_url()).content.decode()
    assert _results(unit) in html
    assert _open(unit) in html
