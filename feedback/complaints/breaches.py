"""The complaint rules of the breach engine, registered into oversight's sweep from
feedback's ready() (oversight is below feedback in the layers).

- *Unanswered complaint*: the handlers' first response (verify, route or ask for more) past
  its limit (default 3 working days of receipt), the first answer past its limit
  (default 5 working days of verification), the second answer after the citizen reopened
  it past the same answer limit (from the reopening), or the resolution (closing) past its
  limit (default 60 calendar days of receipt). Working days are on the unit's calendar
  (agencies.calendars, the one clock). The due moments are computed when the clock starts
  and stored (`verify_due_at`, `answer_due_at`, `reanswer_due_at`, `resolve_due_at`), so
  the rule is one indexed SELECT; the unique fact (kind, "complaint", id,
  "<step>:<agency>") makes each limit a breach exactly once, however often the sweep runs,
  and the sweep hands each new breach to the outbox like every other rule's. The limits are the rule's settings: national
  defaults, per agency in `BreachRule.settings`.
- *Link to the request's breach*: a verified complaint about time or cost on a known request
  is linked to the request's late / overdue or overcharge breach; if the sweep has not seen
  it yet, those rules are run at once (a partial sweep) so the breach exists to link to.
"""

from __future__ import annotations

from typing import Any

from oversight.models import Breach, BreachKind, Maladministration
from oversight.rules import REGISTRY, Rule, RuleSettings, SweepContext, register, settings_for

DEFAULTS: dict[str, int] = {
    "verify_working_days": 3,
    "answer_working_days": 5,
    "resolve_days": 60,
}
CATEGORY_FOR: dict[str, str] = {
    "time": Maladministration.UNDUE_DELAY,
    "cost": Maladministration.ILLEGAL_CHARGE,
}
# Which kinds of a request's breach a complaint of a category points to.
LINKED_KINDS: dict[str, tuple[str, ...]] = {
    "time": (BreachKind.LATE_DELIVERY, BreachKind.OVERDUE_OPEN),
    "cost": (BreachKind.OVERCHARGE,),
}


def limits_for(agency_id: int) -> dict[str, int]:
    """The agency's complaint limits (its own settings, else the national ones)."""
    rule = REGISTRY.get(BreachKind.UNANSWERED_COMPLAINT)
    if rule is None:
        return dict(DEFAULTS)
    rs = settings_for(rule)
    values = {**DEFAULTS, **rs.national, **rs.per_agency.get(agency_id, {})}
    return {key: int(values[key]) for key in DEFAULTS}


def _table() -> str:
    from feedback.complaints.models import Complaint

    return Complaint._meta.db_table


def unanswered_complaint(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _table()
    inactive, inactive_params = rs.exclude_inactive("c.agency_id")
    verify_days, verify_params = rs.case("verify_working_days", "c.agency_id")
    answer_days, answer_params = rs.case("answer_working_days", "c.agency_id")
    resolve_days, resolve_params = rs.case("resolve_days", "c.agency_id")

    def arm(step: str, due: str, done: str, days: str, unit: str = "working_days") -> str:
        # Due moments that passed since the last sweep, plus complaints changed since then
        # (a late first response also counts: done after the due moment).
        return f"""
        SELECT 'unanswered_complaint' AS kind, 'complaint' AS subject_type,
               c.id AS subject_id, '{step}:' || c.agency_id AS period,
               c.agency_id AS agency_id, c.unit_id AS unit_id, c.service_id AS service_id,
               CAST(NULL AS BIGINT) AS version_id, c.delivery_id AS delivery_id,
               CAST(NULL AS NUMERIC) AS measured_value, {days} AS promised_value,
               '{unit}' AS value_unit, 'overdue' AS severity, c.{due} AS occurred_at,
               %s AS detected_at, 'open' AS status, '' AS suggested_category,
               '' AS decided_category
        FROM {t} c
        WHERE c.{due} < %s AND (c.{done} IS NULL OR c.{done} > c.{due})
          AND (c.{due} >= %s OR c.updated_at >= %s){inactive}"""  # noqa: S608

    verify = arm("verify", "verify_due_at", "verify_done_at", verify_days)
    answer = arm("answer", "answer_due_at", "first_answered_at", answer_days)
    reanswer = arm("reanswer", "reanswer_due_at", "reanswered_at", answer_days)
    resolve = arm("resolve", "resolve_due_at", "closed_at", resolve_days, "days")
    arms = " UNION ALL ".join((verify, answer, reanswer, resolve))
    sql = f"SELECT * FROM ({arms}) unanswered WHERE 1 = 1"  # noqa: S608
    params: list[Any] = []
    for days_params in (verify_params, answer_params, answer_params, resolve_params):
        params += [*days_params, ctx.now, ctx.now, ctx.since, ctx.since, *inactive_params]
    return sql, params


def find_request_breach(*, delivery_id: int, category: str) -> Breach | None:
    kinds = LINKED_KINDS.get(category)
    if not kinds:
        return None
    return (
        Breach.objects.filter(subject_type="delivery", subject_id=delivery_id, kind__in=kinds)
        .order_by("-detected_at")
        .first()
    )


def request_breach_for(*, delivery_id: int, category: str) -> Breach | None:
    """The request's matching breach; if the sweep has not seen it yet, its rules run now."""
    found = find_request_breach(delivery_id=delivery_id, category=category)
    if found is not None or category not in LINKED_KINDS:
        return found
    from oversight.sweep import sweep

    sweep(kinds=list(LINKED_KINDS[category]))
    return find_request_breach(delivery_id=delivery_id, category=category)


def unanswered_breaches_now() -> None:
    """Run the unanswered-complaint rule at once (a partial sweep): before a complaint
    leaves an agency that let its limit pass, so the fact is recorded against that agency
    even if the sweep has not run since."""
    from oversight.sweep import sweep

    sweep(kinds=[BreachKind.UNANSWERED_COMPLAINT])


def register_rules() -> None:
    register(
        Rule(
            BreachKind.UNANSWERED_COMPLAINT,
            "complaint",
            dict(DEFAULTS),
            unanswered_complaint,
            # Grouped as a UNION: re-running row by row appends to the outer WHERE.
            "unanswered.subject_id",
            description=(
                "Complaint not verified, answered, answered again after reopening or "
                "resolved within its limit"
            ),
        )
    )
