"""The case's flow as data (Peraturan Ombudsman 58/2023): (state, action) -> (next state,
roles allowed). Anything not in the table is refused; `cases.services.case_transition` is
the one function that moves a case, and it reads only this table.

registered -> verification (an incomplete case waits for information, with a clock) ->
examination (explanations requested from the unit) -> draft findings (the agency may
respond) -> final findings (found / not found / stopped) -> monitoring of corrective
actions -> closed. The fast lane (Respons Cepat Ombudsman) goes from registered straight to
examination.
"""

from __future__ import annotations

from typing import Final

from cases.models import CaseState as S

REVIEWER: Final = "reviewer"  # an ombudsman reviewer (or a superuser)
AGENCY: Final = "agency"  # staff of the case's agency who may answer for its unit
SYSTEM: Final = "system"  # the platform's own tasks
# The complainant of a case opened from a complaint (no account: their tracking code).
REPORTER: Final = "reporter"
ROLES = (REVIEWER, AGENCY, SYSTEM, REPORTER)

_R = frozenset({REVIEWER})
_A = frozenset({AGENCY})

TRANSITIONS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    (S.REGISTERED, "verify"): (S.VERIFICATION, _R),
    (S.REGISTERED, "fast_track"): (S.EXAMINATION, _R),
    (S.VERIFICATION, "request_info"): (S.AWAITING_INFO, _R),
    (S.AWAITING_INFO, "info_received"): (S.VERIFICATION, _R),
    (S.AWAITING_INFO, "close_incomplete"): (S.CLOSED, frozenset({REVIEWER, SYSTEM})),
    (S.VERIFICATION, "accept"): (S.EXAMINATION, _R),
    (S.VERIFICATION, "stop"): (S.FINAL, _R),
    (S.EXAMINATION, "request_explanation"): (S.EXAMINATION, _R),
    (S.EXAMINATION, "answer_explanation"): (S.EXAMINATION, _A),
    (S.EXAMINATION, "issue_draft"): (S.DRAFT_FINDINGS, _R),
    (S.EXAMINATION, "stop"): (S.FINAL, _R),
    (S.DRAFT_FINDINGS, "respond_draft"): (S.DRAFT_FINDINGS, _A),
    (S.DRAFT_FINDINGS, "reporter_respond"): (S.DRAFT_FINDINGS, frozenset({REPORTER})),
    (S.DRAFT_FINDINGS, "finalise"): (S.FINAL, _R),
    (S.DRAFT_FINDINGS, "stop"): (S.FINAL, _R),
    (S.FINAL, "monitor"): (S.MONITORING, _R),
    (S.FINAL, "close"): (S.CLOSED, _R),
    (S.MONITORING, "report_action"): (S.MONITORING, _A),
    (S.MONITORING, "accept_action"): (S.MONITORING, _R),
    (S.MONITORING, "reject_action"): (S.MONITORING, _R),
    (S.MONITORING, "raise_recommendation"): (S.MONITORING, _R),
    (S.MONITORING, "close"): (S.CLOSED, _R),
}

ACTIONS = sorted({action for _state, action in TRANSITIONS})


def allowed(state: str, action: str, role: str | None) -> bool:
    entry = TRANSITIONS.get((state, action))
    return entry is not None and role in entry[1]


def actions_for(state: str, role: str | None) -> list[str]:
    """What this role may do to a case in this state (the page offers exactly these)."""
    return [a for (s, a), (_n, roles) in TRANSITIONS.items() if s == state and role in roles]
