"""seed_demo's cases: every state of the flow, actions on time and late, one recommendation,
breaches on the desk; run twice, nothing new."""

from __future__ import annotations

from typing import Any

import pytest

from cases.models import CaseState, CorrectiveAction, Recommendation
from demo.cases import seed_cases
from demo.deliveries import seed_deliveries
from demo.management.commands.seed_demo import seed_registry
from oversight.models import Breach


@pytest.mark.django_db
def test_seed_cases_fills_the_desk_in_every_state(db: Any) -> None:
    seed_registry()
    seed_deliveries(count=300, seed=7)
    opened = seed_cases()
    assert opened == 11
    from cases.models import Case

    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    accepted = CorrectiveAction.objects.filter(status="accepted")
    assert accepted.filter(on_time=True).exists() and accepted.filter(on_time=False).exists()
    assert Recommendation.objects.count() == 1
    assert Breach.objects.filter(on_desk_at__isnull=False).exclude(cases__isnull=False).exists()
    assert seed_cases() == 0
    assert Case.objects.count() == 11
