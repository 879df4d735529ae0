"""A case's world: agency A's unit with breaches on the desk, the national calendar."""

from __future__ import annotations

from typing import Any

import pytest

from cases import services
from cases.models import Case
from tests.oversight.desk_world import desk_breach
from tests.registry import make_published, make_service

PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def svc_a(unit_a: Any, agency_a: Any) -> Any:
    """Agency A's service, its standard published (its public page exists)."""
    service = make_service(agency_a, unit_a, name="Akta Kelahiran")
    make_published(service)
    return service


@pytest.fixture
def case_a(national: Any, agency_a: Any, unit_a: Any, svc_a: Any, ombudsman: Any) -> Case:
    """A registered case of two late deliveries of agency A's unit."""
    breaches = [
        desk_breach(agency=agency_a, unit=unit_a, service=svc_a, days_ago=d) for d in (20, 10)
    ]
    return services.case_open(breach_ids=[b.pk for b in breaches], acting_user=ombudsman)


def advance(case: Case, reviewer: Any, agency_user: Any, to: str) -> Case:
    """Walk a case along the flow to the state `to` (a path through the table)."""
    steps: list[tuple[str, Any, dict[str, Any]]] = [
        ("verify", reviewer, {}),
        ("accept", reviewer, {}),
        ("request_explanation", reviewer, {"text": "Mengapa terlambat?"}),
        (
            "issue_draft",
            reviewer,
            {
                "outcome": "found",
                "categories": ["undue_delay"],
                "summary": "Penundaan berlarut pada layanan akta.",
                "actions": [("Perbaiki antrean berkas", None)],
            },
        ),
        ("finalise", reviewer, {}),
        ("monitor", reviewer, {}),
    ]
    targets = [
        "verification",
        "examination",
        "examination",
        "draft_findings",
        "final",
        "monitoring",
    ]
    for (action, actor, data), target in zip(steps, targets, strict=True):
        if case.state == to:
            break
        case = services.case_transition(case, action, actor, **data)
        assert case.state == target
    return case
