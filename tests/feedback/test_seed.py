"""seed_demo leaves several units with SKM grades to show."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.urls import reverse

from agencies.models import Unit
from feedback.models import SkmFollowUp, SurveyChannel, SurveyResponse
from feedback.selectors import skm_periods


def test_seed_demo_gives_several_units_a_grade_and_is_idempotent(db: Any, client: Any) -> None:
    call_command("seed_demo", deliveries=600, verbosity=0)
    count = SurveyResponse.objects.count()
    assert SurveyResponse.objects.filter(channel=SurveyChannel.AFTER_REQUEST).exists()
    assert SurveyResponse.objects.filter(channel=SurveyChannel.OPEN).exists()
    grades = {}
    for unit in Unit.objects.select_related("agency"):
        periods = skm_periods(unit=unit)
        if periods:
            grades[unit.slug] = periods[-1].result.grade
    assert len(grades) >= 4
    assert len(set(grades.values())) >= 2  # units differ
    unit = Unit.objects.select_related("agency").get(slug="mpp-bandung")
    html = client.get(
        reverse(
            "feedback:unit_results",
            kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug},
        )
    ).content.decode()
    assert "data-grade" in html
    # Suggestions answered in part and follow-up plans for closed periods.
    answered = SurveyResponse.objects.filter(suggestion_answered_at__isnull=False).count()
    suggestions = SurveyResponse.objects.exclude(suggestion="").count()
    plans = SkmFollowUp.objects.count()
    assert 0 < answered < suggestions and plans > 0

    call_command("seed_demo", deliveries=600, verbosity=0)
    assert SurveyResponse.objects.count() == count
    assert SurveyResponse.objects.filter(suggestion_answered_at__isnull=False).count() == answered
    assert SkmFollowUp.objects.count() == plans
