"""The low-satisfaction rule: a closed period's grade below target, with a sufficient sample,
becomes one breach of the unit, through oversight's sweep."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from delivery.services import delivery_record
from feedback.models import SurveyChannel
from feedback.services import device_key, survey_response_submit
from oversight.models import Breach, BreachKind, BreachRule
from oversight.rules import REGISTRY
from oversight.sweep import sweep
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.feedback.conftest import wib
from tests.registry import make_service

pytestmark = pytest.mark.django_db

KIND = BreachKind.LOW_SATISFACTION


def _service(agency: Any, unit: Any, slug: str) -> Any:
    service = make_service(agency, unit, name=f"Layanan {slug}", slug=slug)
    data, children = factories.complete_version_data(is_free=True, clock_start="on_receipt")
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(version=version, acting_user=None, published_at=wib(2025, 1, 2))
    return service


def _answered(service: Any, scores: list[int], *, requests: int, answers: int, day: int) -> None:
    """`requests` requests completed in February 2026 (2026-Q1), `answers` of them answered."""
    for n in range(requests):
        delivery, _ = delivery_record(
            service=service,
            reference=f"{service.slug}-{n}",
            submitted_at=wib(2026, 2, day),
            completed_at=wib(2026, 2, day + 1),
        )
        if n < answers:
            survey_response_submit(
                unit=service.unit,
                delivery=delivery,
                channel=SurveyChannel.AFTER_REQUEST,
                scores=scores,
                now=wib(2026, 2, day + 2),
            )


def test_the_rule_is_registered_from_feedback() -> None:
    assert KIND in REGISTRY
    assert REGISTRY[KIND].defaults == {"target_grade": "B"}


def test_low_grade_with_a_sufficient_sample_is_one_breach(
    national: Any, agency_a: Any, unit_a: Any
) -> None:
    # 3 completed requests need a sample of 3 (Krejcie-Morgan); all 3 answer with 2s:
    # IKM 2, converted 50.00, grade D, below the default target B.
    _answered(_service(agency_a, unit_a, "low"), [2] * 9, requests=3, answers=3, day=2)
    # Another unit, as unhappy, but only 2 of its 3 requests answered: too small a sample.
    unit_c = factories.UnitFactory(agency=agency_a, slug="unit-c")
    _answered(_service(agency_a, unit_c, "few"), [1] * 9, requests=3, answers=2, day=9)
    # A third, graded B (3.2 -> 80.00 with 3,3,3,3,3,3,3,4,4 = 29/9 = 3.2222 -> 80.56).
    unit_d: Any = factories.UnitFactory(agency=agency_a, slug="unit-d")
    _answered(_service(agency_a, unit_d, "good"), [3] * 7 + [4, 4], requests=2, answers=2, day=16)
    # The current period never counts, however low: it is not closed.
    survey_response_submit(unit=unit_d, channel="open", device=device_key("now"), scores=[1] * 9)

    assert sweep(kinds=[KIND]).created == {KIND: 1}
    breach = Breach.objects.get(kind=KIND)
    assert (breach.unit, breach.subject_type, breach.subject_id) == (unit_a, "unit", unit_a.pk)
    assert breach.period == "2026-Q1"
    assert breach.measured_value == Decimal("50.00")
    assert breach.promised_value == Decimal("76.61")
    assert breach.value_unit == "SKM"
    assert breach.occurred_at == wib(2026, 4, 1, 0)
    # Once per unit and period, however often the sweep runs.
    assert sweep(kinds=[KIND]).created == {KIND: 0}
    assert Breach.objects.filter(kind=KIND).count() == 1


def test_an_agency_may_set_its_own_target(national: Any, agency_a: Any, unit_a: Any) -> None:
    BreachRule.objects.create(kind=KIND, agency=agency_a, settings={"target_grade": "D"})
    _answered(_service(agency_a, unit_a, "low"), [2] * 9, requests=3, answers=3, day=2)
    assert sweep(kinds=[KIND]).created == {KIND: 0}


def test_switched_off_for_an_agency(national: Any, agency_a: Any, unit_a: Any) -> None:
    BreachRule.objects.create(kind=KIND, agency=agency_a, is_active=False)
    _answered(_service(agency_a, unit_a, "low"), [2] * 9, requests=3, answers=3, day=2)
    assert sweep(kinds=[KIND]).created == {KIND: 0}


def test_nothing_to_find_is_harmless(db: Any) -> None:
    assert sweep(kinds=[KIND]).created == {KIND: 0}
