"""The agency's missed deadlines before the ombudsman, as breach rules of oversight's sweep.

- A corrective action still open (or rejected) past its deadline is a breach of its own
  kind (`corrective_action_overdue`), once: the breach's unique (kind, subject, period)
  makes a second sweep, or two at once, write nothing new. It is then notified and
  escalated like any other breach (the sweep writes its outbox row in the same statement).
- A request for explanation unanswered past its deadline, while the case is under
  examination, is one too (`explanation_overdue`).
- A recommendation (rekomendasi) whose action is still not reported done past the
  recommendation's own deadline (default 60 days) is a third kind
  (`recommendation_overdue`), once, the same way.

Registered from CasesConfig.ready() (oversight declares the kinds and knows nothing of
cases). Each rule's cost grows with the deadlines that passed and the rows that changed
since the last sweep, not with history (the same two-armed condition as overdue requests).
"""

from __future__ import annotations

from typing import Any

from oversight.models import BreachKind
from oversight.rules import Rule, RuleSettings, SweepContext, register


def _tables() -> dict[str, str]:
    from cases.models import Case, CorrectiveAction, ExplanationRequest, Finding, Recommendation

    return {
        "recommendation": Recommendation._meta.db_table,
        "action": CorrectiveAction._meta.db_table,
        "finding": Finding._meta.db_table,
        "case": Case._meta.db_table,
        "request": ExplanationRequest._meta.db_table,
    }


def corrective_action_overdue(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("a.agency_id")
    sql = f"""
        SELECT 'corrective_action_overdue', 'action', a.id, '', a.agency_id, a.unit_id,
               c.service_id, NULL, NULL, NULL, a.due_days, 'working_days', 'overdue',
               a.due_at, %s, 'open', '', ''
        FROM {t["action"]} a
        JOIN {t["finding"]} f ON f.id = a.finding_id
        JOIN {t["case"]} c ON c.id = f.case_id
        WHERE a.status IN ('open', 'rejected') AND a.due_at < %s
          AND (a.due_at >= %s OR a.updated_at >= %s){inactive}"""
    return sql, [ctx.now, ctx.now, ctx.since, ctx.since, *inactive_params]


def explanation_overdue(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("c.agency_id")
    sql = f"""
        SELECT 'explanation_overdue', 'explanation', r.id, '', c.agency_id, c.unit_id,
               c.service_id, NULL, NULL, NULL, r.due_days, 'working_days', 'overdue',
               r.due_at, %s, 'open', '', ''
        FROM {t["request"]} r
        JOIN {t["case"]} c ON c.id = r.case_id
        WHERE r.answered_at IS NULL AND c.state = 'examination' AND r.due_at < %s
          AND (r.due_at >= %s OR r.updated_at >= %s){inactive}"""
    return sql, [ctx.now, ctx.now, ctx.since, ctx.since, *inactive_params]


def recommendation_overdue(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    """The recommendation's deadline passed and its action is still open (or rejected): not
    reported done, not accepted. The second arm catches an action rejected again after its
    recommendation's deadline had already passed."""
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("a.agency_id")
    sql = f"""
        SELECT 'recommendation_overdue', 'recommendation', r.id, '', a.agency_id, a.unit_id,
               c.service_id, NULL, NULL, NULL, r.due_days, 'working_days', 'overdue',
               r.due_at, %s, 'open', '', ''
        FROM {t["recommendation"]} r
        JOIN {t["action"]} a ON a.id = r.action_id
        JOIN {t["finding"]} f ON f.id = a.finding_id
        JOIN {t["case"]} c ON c.id = f.case_id
        WHERE a.status IN ('open', 'rejected') AND r.due_at < %s
          AND (r.due_at >= %s OR a.updated_at >= %s){inactive}"""
    return sql, [ctx.now, ctx.now, ctx.since, ctx.since, *inactive_params]


def register_rules() -> None:
    register(
        Rule(
            BreachKind.CORRECTIVE_ACTION_OVERDUE,
            "action",
            {},
            corrective_action_overdue,
            "a.id",
            description="A corrective action past its deadline",
        )
    )
    register(
        Rule(
            BreachKind.EXPLANATION_OVERDUE,
            "explanation",
            {},
            explanation_overdue,
            "r.id",
            description="A request for explanation unanswered past its deadline",
        )
    )
    register(
        Rule(
            BreachKind.RECOMMENDATION_OVERDUE,
            "recommendation",
            {},
            recommendation_overdue,
            "r.id",
            description="An ombudsman recommendation past its deadline",
        )
    )
