"""A citizen answers the satisfaction survey (SKM) from a completed request's tracking page,
in a real browser and in Indonesian, and the unit's SKM page shows the new result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext

from delivery.services import delivery_record
from feedback.elements import ELEMENTS
from feedback.models import SurveyResponse
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.registry import make_service

pytestmark = pytest.mark.e2e

JAKARTA = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(autouse=True)
def _fresh_rate_limits(transactional_db: Any) -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def indonesian(msgid: str) -> str:
    with translation.override("id"):
        text = gettext(msgid)
    assert text != msgid, f"No Indonesian translation for {msgid!r}"
    return text


@pytest.fixture
def completed(transactional_db: Any, national: Any, agency_a: Any, unit_a: Any) -> Any:
    service = make_service(agency_a, unit_a, name="Akta Kelahiran", slug="akta-kelahiran")
    data, children = factories.complete_version_data(is_free=True, clock_start="on_receipt")
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(
        version=version, acting_user=None, published_at=dt.datetime(2025, 1, 2, tzinfo=JAKARTA)
    )
    now = dt.datetime.now(tz=JAKARTA)
    delivery, _ = delivery_record(
        service=service,
        reference="E2E-SKM-1",
        submitted_at=now - dt.timedelta(days=3),
        completed_at=now - dt.timedelta(hours=2),
    )
    return delivery


def test_a_citizen_answers_the_survey_and_the_unit_page_shows_it(page: Any, completed: Any) -> None:
    unit = completed.unit
    page.goto(f"/track/{completed.tracking_code}/")
    survey = page.locator("#survey")
    assert survey.get_by_role("heading", level=2).inner_text() == indonesian(
        "How satisfied are you with this service?"
    )
    survey.get_by_role("link", name=indonesian("Answer the satisfaction survey")).click()
    page.wait_for_url(f"**/survey/request/{completed.tracking_code}/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert [v for v in _violations(page) if v["impact"] in BLOCKING] == []

    # Every element but cost "very" satisfied; cost "cukup mahal" (2), by its own words.
    for element in ELEMENTS:
        answer = 2 if element.field == "score_cost" else 4
        with translation.override("en"):
            msgid = str(element.answers[answer - 1])
        words = indonesian(msgid)
        page.locator(f"#q-{element.field}").get_by_label(words, exact=True).check()
    page.get_by_label(indonesian("Sex")).select_option("female")
    page.get_by_label(indonesian("Your suggestion for this unit (optional)")).fill(
        "Ruang tunggu perlu kipas angin."
    )
    page.get_by_role("button", name=indonesian("Send my answers")).click()
    page.wait_for_url(f"**/survey/{unit.agency.slug}/{unit.slug}/results/")
    assert page.locator(".messages").inner_text() == indonesian(
        "Thank you for answering the survey."
    )

    saved = SurveyResponse.objects.get()
    assert saved.delivery_id == completed.pk
    assert saved.scores == (4, 4, 4, 2, 4, 4, 4, 4, 4)
    assert saved.sex == "female"

    # (8 * 4 + 2) / 9 = 3.7778 -> x 25 = 94.44: grade A, cost the lowest element.
    assert page.locator("[data-grade]").inner_text() == "A"
    assert page.locator("[data-converted]").inner_text() in ("94,44", "94.44")
    assert page.locator("[data-respondents]").inner_text().startswith("1")
    lowest = page.locator("tr[data-lowest]")
    assert lowest.count() == 1
    assert indonesian("Cost or tariff") in lowest.inner_text()
    assert [v for v in _violations(page) if v["impact"] in BLOCKING] == []

    # Back on the tracking page the survey is no longer offered: one response per request.
    page.goto(f"/track/{completed.tracking_code}/")
    assert (
        page.locator("#survey")
        .get_by_role("link", name=indonesian("Answer the satisfaction survey"))
        .count()
        == 0
    )
