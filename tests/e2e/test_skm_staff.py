"""The unit's staff answer a respondent's suggestion and write the follow-up planned, in a
real browser; the unit's SKM page shows the share answered and the printable report the
follow-up. axe on the new staff pages in both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from agencies.models import Role
from feedback.elements import ELEMENTS
from feedback.models import SurveyChannel, SurveyResponse
from feedback.periods import period_of
from tests import factories
from tests.e2e.test_complaint import _axe, _login, indonesian

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _fresh_rate_limits(transactional_db: Any) -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def test_staff_answer_a_suggestion_and_plan_the_follow_up(
    page: Any, transactional_db: Any, agency_a: Any, unit_a: Any
) -> None:
    editor = factories.UserFactory(username="skm_editor_a")
    factories.MembershipFactory(user=editor, agency=agency_a, role=Role.EDITOR)
    now = timezone.now()
    period = period_of(timezone.localdate(now))
    for index, suggestion in enumerate(("Ruang tunggu panas.", "Petugas ramah.")):
        SurveyResponse.objects.create(
            agency=agency_a,
            unit=unit_a,
            channel=SurveyChannel.OPEN,
            device=f"{index:064d}",
            period=period,
            submitted_at=now - dt.timedelta(minutes=5 + index),
            suggestion=suggestion,
            **{element.field: 3 for element in ELEMENTS},
        )
    _login(page, "skm_editor_a")
    page.goto("/staff/")
    page.get_by_role("link", name=indonesian("Satisfaction survey")).first.click()
    page.wait_for_url("**/staff/skm/")
    _axe(page)
    page.get_by_role("link", name=period).click()
    page.wait_for_url(f"**/staff/skm/{unit_a.pk}/{period}/")
    _axe(page)
    first = SurveyResponse.objects.get(suggestion="Ruang tunggu panas.")
    page.locator(f"#id_s{first.pk}-answer").fill("Dua kipas angin dipasang pekan ini.")
    page.locator(f"[data-suggestion='{first.pk}'] [data-action=answer-suggestion]").click()
    page.wait_for_url(f"**/staff/skm/{unit_a.pk}/{period}/")
    assert page.locator("[data-suggestions-answered]").inner_text().startswith("50%")
    page.locator("#id_plan").fill("Memasang pendingin ruangan di ruang tunggu pada triwulan depan.")
    page.locator("[data-action=follow-up]").click()
    page.wait_for_url(f"**/staff/skm/{unit_a.pk}/{period}/")
    for prefix in ("", "/en"):
        page.goto(f"{prefix}/staff/skm/{unit_a.pk}/{period}/")
        _axe(page)

    page.goto(f"/survey/{agency_a.slug}/{unit_a.slug}/results/")
    assert page.locator("dd[data-suggestions-answered]").inner_text().startswith("50%")
    page.goto(f"/survey/{agency_a.slug}/{unit_a.slug}/report/{period}/")
    assert "pendingin ruangan" in page.locator("[data-follow-up]").inner_text()
    assert "kipas angin" in page.locator("[data-suggestion-answer]").inner_text()
    _axe(page)
