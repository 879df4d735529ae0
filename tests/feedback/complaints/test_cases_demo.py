"""seed_demo's case from a complaint: opened from a complaint on the desk, draft findings
issued, the complainant's response in; run twice, nothing new."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from agencies.models import Membership, Role
from cases.models import Case, CaseState
from demo.complaint_cases import RESPONSE, seed_complaint_cases
from demo.complaints import seed_complaints
from demo.management.commands.seed_demo import seed_registry
from tests import factories


def test_seed_opens_one_case_from_a_complaint(national: Any) -> None:
    with transaction.atomic():
        seed_registry()
    seed_complaints()
    if not Membership.objects.filter(role=Role.OMBUDSMAN).exists():
        user = factories.UserFactory(username="pemeriksa-demo")
        factories.MembershipFactory(user=user, agency=None, role=Role.OMBUDSMAN)
    assert seed_complaint_cases() == 1
    case = Case.objects.get(complaint_id__isnull=False)
    assert case.state == CaseState.DRAFT_FINDINGS
    assert case.finding.reporter_response == RESPONSE
    assert seed_complaint_cases() == 0
    assert Case.objects.filter(complaint_id__isnull=False).count() == 1
