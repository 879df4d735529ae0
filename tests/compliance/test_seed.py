"""seed_demo publishes one period's assessments, so that the scorecards and the league show
grades; run twice, it adds nothing."""

from __future__ import annotations

from agencies.models import Agency
from compliance.models import Assessment, AssessmentState
from demo.compliance import seed_compliance
from demo.management.commands.seed_demo import seed_registry


def test_seed_publishes_one_period_and_is_idempotent(db, client):
    seed_registry()
    published = seed_compliance()
    agencies = Agency.objects.count()
    assert published == agencies >= 3
    assert Assessment.objects.filter(state=AssessmentState.PUBLISHED).count() == agencies
    assert len({a.score for a in Assessment.objects.all()}) > 1  # the agencies differ
    assert seed_compliance() == 0
    assert Assessment.objects.count() == agencies
    html = client.get("/en/agencies/").content.decode()
    assert "Compliance opinion" in html
    assert html.count("data-zone=") == agencies
    agency = Agency.objects.order_by("slug")[0]
    card = client.get(f"/en/agencies/{agency.slug}/compliance/").content.decode()
    assert "Published opinion for" in card
