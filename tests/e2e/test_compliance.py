"""The compliance opinion in a browser: axe on its public pages in both languages, and a
reviewer who creates, fills, computes and publishes a period that the public then sees."""

from __future__ import annotations

import pytest

from compliance.models import Assessment, AssessmentMethod, AssessmentState
from demo.compliance import seed_compliance
from demo.management.commands.seed_demo import seed_registry
from tests.compliance.conftest import ensure_methods
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.e2e.test_review_desk import _login_with_code

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _shipped_methods(transactional_db):
    """A transactional test flushes every table afterwards, the data migration's methods
    included: ship them again (the migration's own function, idempotent)."""
    ensure_methods()


def published_method() -> AssessmentMethod:
    return AssessmentMethod.objects.get(code="kepatuhan-2022")


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_serious_or_critical_axe_violation_on_compliance_pages(page, transactional_db, language):
    seed_registry()
    assert seed_compliance() > 0
    prefix = "" if language == "id" else "/en"
    assessment = Assessment.objects.filter(state=AssessmentState.PUBLISHED).first()
    assert assessment is not None
    pages = {
        "method 2021": "/compliance/methods/kepatuhan-2021/",
        "method 2022-2024": "/compliance/methods/kepatuhan-2022/",
        "method 2025": "/compliance/methods/opini-2025/",
        "scorecard": f"/agencies/{assessment.agency.slug}/compliance/",
        "league with opinions": "/agencies/",
    }
    problems = {}
    for name, path in pages.items():
        response = page.goto(prefix + path)
        assert response is not None and response.status == 200, name
        assert page.locator("html").get_attribute("lang") == language
        blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
        if blocking:
            problems[f"{name} ({prefix + path})"] = blocking
    assert not problems, problems


def test_a_reviewer_publishes_a_period_and_the_public_sees_the_scorecard(
    page, browser, live_server, ombudsman, agency_a, published_a, transactional_db
):
    reviewer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    _login_with_code(reviewer, ombudsman)
    reviewer.goto("/en/staff/compliance/")
    create = reviewer.locator("form[action$='/staff/compliance/create/']")
    create.get_by_label("Method").select_option(str(published_method().pk))
    create.get_by_label("Year assessed").fill("2024")
    create.get_by_label("Agency").select_option(label=agency_a.name)
    create.get_by_role("button", name="Create drafts").click()
    reviewer.wait_for_load_state()
    assessment = Assessment.objects.get(agency=agency_a, period="2024")
    reviewer.locator(f'tr[data-assessment="{assessment.pk}"] a').click()
    reviewer.wait_for_url(f"**/staff/compliance/{assessment.pk}/")

    # The visit: the standard and the charter displayed, 2 of 3.
    result = assessment.indicator_results.get(indicator__code="standard_displayed")
    card = reviewer.locator(f"#result-{result.pk}")
    card.get_by_label("Score").select_option("2")
    card.get_by_label("Note").fill("Poster hanya di loket utama.")
    card.get_by_role("button", name="Save").click()
    reviewer.wait_for_load_state()
    result.refresh_from_db()
    assert result.checklist_value == 2
    reviewer.get_by_role("button", name="Compute the registry's indicators").click()
    reviewer.wait_for_load_state()
    assessment.refresh_from_db()
    assert assessment.score is not None

    reviewer.goto("/en/staff/compliance/")
    publish = reviewer.locator("form[action$='/staff/compliance/publish/']")
    publish.get_by_label("Method").select_option(str(assessment.method_id))
    publish.get_by_label("Period").fill("2024")
    publish.get_by_role("button", name="Publish the period").click()
    reviewer.wait_for_load_state()
    assessment.refresh_from_db()
    assert assessment.state == AssessmentState.PUBLISHED

    # Anyone now sees the scorecard and the league's grade.
    page.goto(f"/en/agencies/{agency_a.slug}/compliance/")
    score = page.locator(".score-line").first
    assert score.get_attribute("data-score") == str(assessment.score)
    assert assessment.grade in score.inner_text()
    assert "Poster hanya di loket utama." in page.content()
    page.goto("/en/agencies/")
    assert page.get_by_role("columnheader", name="Compliance opinion").is_visible()
