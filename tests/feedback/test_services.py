"""survey_response_submit: the rules the database and the service hold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from agencies.models import Unit
from core.errors import ApplicationError
from feedback.models import SurveyChannel, SurveyResponse
from feedback.services import device_key, survey_response_submit
from tests.feedback.conftest import wib

pytestmark = pytest.mark.django_db

FOURS = [4] * 9


def test_after_request_takes_unit_service_and_period_from_the_request(
    completed: Any, unit_b: Any
) -> None:
    other_unit: Unit = unit_b
    response = survey_response_submit(
        unit=other_unit,  # ignored: the request's unit counts
        delivery=completed,
        channel=SurveyChannel.AFTER_REQUEST,
        scores=FOURS,
        now=wib(2026, 10, 1),
    )
    assert (response.unit, response.service) == (completed.unit, completed.service)
    assert response.agency_id == completed.agency_id
    assert response.period == "2026-Q4"


def test_the_period_is_the_quarter_in_wib(completed: Any) -> None:
    # 31 March 20:00 UTC is 1 April 03:00 in Jakarta: the second quarter.
    response = survey_response_submit(
        unit=completed.unit,
        delivery=completed,
        channel=SurveyChannel.AFTER_REQUEST,
        scores=FOURS,
        now=dt.datetime(2026, 3, 31, 20, tzinfo=dt.UTC),
    )
    assert response.period == "2026-Q2"


def test_one_response_per_request(completed: Any) -> None:
    kwargs = {"unit": completed.unit, "delivery": completed, "channel": "after_request"}
    survey_response_submit(scores=FOURS, **kwargs)
    with pytest.raises(ApplicationError) as caught:
        survey_response_submit(scores=[1] * 9, **kwargs)
    assert caught.value.code == "duplicate"
    assert SurveyResponse.objects.count() == 1


def test_an_open_request_cannot_answer(open_request: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        survey_response_submit(
            unit=open_request.unit,
            delivery=open_request,
            channel=SurveyChannel.AFTER_REQUEST,
            scores=FOURS,
        )
    assert caught.value.code == "not_completed"


@pytest.mark.parametrize("scores", [[4] * 8, [5] * 9, [0] * 9, ["4"] * 9])
def test_bad_scores_are_refused(completed: Any, scores: list[Any]) -> None:
    with pytest.raises(ApplicationError) as caught:
        survey_response_submit(
            unit=completed.unit, delivery=completed, channel="after_request", scores=scores
        )
    assert caught.value.code == "scores"


def test_open_survey_once_per_device_and_period(service_a: Any) -> None:
    unit, device = service_a.unit, device_key("token-1")
    first = survey_response_submit(
        unit=unit, channel="open", device=device, scores=FOURS, now=wib(2026, 1, 5)
    )
    assert first.delivery is None
    with pytest.raises(ApplicationError):
        survey_response_submit(
            unit=unit, channel="open", device=device, scores=FOURS, now=wib(2026, 2, 5)
        )
    # The next quarter, the same device may answer again.
    survey_response_submit(
        unit=unit, channel="open", device=device, scores=FOURS, now=wib(2026, 4, 5)
    )
    assert SurveyResponse.objects.count() == 2


def test_open_survey_needs_a_device_and_the_units_own_service(service_a: Any, unit_b: Any) -> None:
    with pytest.raises(ApplicationError):
        survey_response_submit(unit=service_a.unit, channel="open", scores=FOURS)
    with pytest.raises(ApplicationError):
        survey_response_submit(
            unit=unit_b, service=service_a, channel="open", device="d", scores=FOURS
        )


def test_the_database_refuses_a_score_out_of_range(completed: Any) -> None:
    response = survey_response_submit(
        unit=completed.unit, delivery=completed, channel="after_request", scores=FOURS
    )
    response.score_cost = 5
    with pytest.raises(IntegrityError), transaction.atomic():
        response.save()


def test_deleting_a_request_keeps_its_answer_in_the_results(completed: Any) -> None:
    response = survey_response_submit(
        unit=completed.unit, delivery=completed, channel="after_request", scores=FOURS
    )
    completed.delete()
    response.refresh_from_db()
    assert response.delivery is None
    assert response.scores == tuple(FOURS)
