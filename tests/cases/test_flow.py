"""The flow as a table: every (state, action, role) is allowed exactly when the table says
so, and `case_transition` refuses everything else."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.utils import timezone

from cases import flow, services
from cases.models import Case, CaseEvent, CaseState
from core.errors import ApplicationError, PermissionDeniedError

# The table the issue states, written out independently of cases/flow.py: a change to the
# flow must change both.
EXPECTED = {
    ("registered", "verify", "reviewer"): "verification",
    ("registered", "fast_track", "reviewer"): "examination",
    ("verification", "request_info", "reviewer"): "awaiting_info",
    ("awaiting_info", "info_received", "reviewer"): "verification",
    ("awaiting_info", "close_incomplete", "reviewer"): "closed",
    ("awaiting_info", "close_incomplete", "system"): "closed",
    ("verification", "accept", "reviewer"): "examination",
    ("verification", "stop", "reviewer"): "final",
    ("examination", "request_explanation", "reviewer"): "examination",
    ("examination", "answer_explanation", "agency"): "examination",
    ("examination", "issue_draft", "reviewer"): "draft_findings",
    ("examination", "stop", "reviewer"): "final",
    ("draft_findings", "respond_draft", "agency"): "draft_findings",
    ("draft_findings", "reporter_respond", "reporter"): "draft_findings",
    ("draft_findings", "finalise", "reviewer"): "final",
    ("draft_findings", "stop", "reviewer"): "final",
    ("final", "monitor", "reviewer"): "monitoring",
    ("final", "close", "reviewer"): "closed",
    ("monitoring", "report_action", "agency"): "monitoring",
    ("monitoring", "accept_action", "reviewer"): "monitoring",
    ("monitoring", "reject_action", "reviewer"): "monitoring",
    ("monitoring", "raise_recommendation", "reviewer"): "monitoring",
    ("monitoring", "close", "reviewer"): "closed",
}
ROLES = [*flow.ROLES, None]
EVERY = list(itertools.product(CaseState.values, flow.ACTIONS, ROLES))


@pytest.mark.parametrize(("state", "action", "role"), EVERY)
def test_the_table(state: str, action: str, role: str | None) -> None:
    expected = EXPECTED.get((state, action, role or ""))
    assert flow.allowed(state, action, role) is (expected is not None)
    if expected is not None:
        assert flow.TRANSITIONS[(state, action)][0] == expected


def test_the_table_has_nothing_else() -> None:
    assert {(s, a, r) for (s, a), (_n, roles) in flow.TRANSITIONS.items() for r in roles} == set(
        EXPECTED
    )


def _actor(role: str | None, cast: dict[str, Any]) -> Any:
    return {"reviewer": cast["ombudsman"], "agency": cast["editor_a"]}.get(role or "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        (s, a, r)
        for s, a, r in EVERY
        if r in ("reviewer", "agency", None) and (s, a, r) not in EXPECTED
    ][::13],  # a thirteenth of the refused rows, spread over the table (each costs a case)
)
def test_case_transition_refuses(
    state: str, action: str, role: str | None, case_a: Case, cast: dict[str, Any]
) -> None:
    Case.objects.filter(pk=case_a.pk).update(state=state, shown_to_agency_at=timezone.now())
    events = CaseEvent.objects.count()
    with pytest.raises((ApplicationError, PermissionDeniedError)):
        services.case_transition(case_a, action, _actor(role, cast), text="x")
    case_a.refresh_from_db()
    assert case_a.state == state
    assert CaseEvent.objects.count() == events


@pytest.mark.django_db
def test_an_action_outside_the_table_is_refused_whoever_asks(case_a: Case, cast: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        services.case_transition(case_a, "publish_everything", cast["superuser"])
    with pytest.raises(ApplicationError):
        services.case_transition(case_a, "finalise", cast["ombudsman"])


@pytest.mark.django_db
def test_the_fast_lane_skips_verification(case_a: Case, ombudsman: Any) -> None:
    case = services.case_transition(case_a, "fast_track", ombudsman)
    assert (case.state, case.urgent) == ("examination", True)
    assert list(case.events.values_list("action", "from_state", "to_state")) == [
        ("open", "", "registered"),
        ("fast_track", "registered", "examination"),
    ]
