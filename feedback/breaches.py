"""The low-satisfaction breach rule, registered into oversight's sweep from here.

A unit whose SKM grade for a closed period is below its target (default B; per agency in
`BreachRule.settings["target_grade"]`) breaks its promise of good service, counted only
when that period's sample reached the Krejcie-Morgan size for its completed requests: a
handful of unhappy answers is not a finding.

Oversight sits below feedback in the layers, so it cannot ask feedback for grades; feedback
registers the rule (`oversight.rules.register`) at start-up instead. The grades come from
feedback.skm (through feedback.selectors), never from SQL arithmetic of their own: the rule
reads one aggregate row per unit and closed period, and hands the failing pairs to the sweep
as a SELECT of literal rows, which the sweep inserts with ON CONFLICT DO NOTHING as for any
rule (one breach per unit and period, however often it runs).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from feedback.periods import period_bounds
from feedback.selectors import skm_closed_period_results
from feedback.skm import GRADE_BANDS
from oversight.models import BreachKind
from oversight.rules import Rule, RuleSettings, SweepContext, register

LOWER_EDGE: dict[str, Decimal] = dict(GRADE_BANDS)
RANK = {letter: rank for rank, (letter, _edge) in enumerate(GRADE_BANDS)}  # A best

_ROW = (
    "SELECT 'low_satisfaction', 'unit', %s, %s, %s, %s, CAST(NULL AS BIGINT), "
    "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), %s, %s, 'SKM', 'notice', %s, %s, 'open', '', ''"
)
_NOTHING = (
    "SELECT 'low_satisfaction', 'unit', CAST(NULL AS BIGINT), '', CAST(NULL AS BIGINT), "
    "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
    "NULL, NULL, '', 'notice', NULL, NULL, 'open', '', '' WHERE 1 = 0"
)


def _target(rs: RuleSettings, agency_id: int) -> str:
    target = str(rs.per_agency.get(agency_id, {}).get("target_grade", rs.national["target_grade"]))
    return target if target in RANK else "B"


def low_satisfaction(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    selects: list[str] = []
    params: list[Any] = []
    for row in skm_closed_period_results(since=ctx.since, now=ctx.now):
        if row.agency_id in rs.inactive_agencies or row.figures.sample_reached is not True:
            continue
        target = _target(rs, row.agency_id)
        result = row.figures.result
        if RANK[result.grade] <= RANK[target]:
            continue
        period_end = period_bounds(row.figures.period)[1]
        occurred = dt.datetime.combine(period_end, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
        selects.append(_ROW)
        params += [
            row.unit_id,
            row.figures.period,
            row.agency_id,
            row.unit_id,
            result.converted_shown,
            LOWER_EDGE[target],
            occurred,
            ctx.now,
        ]
    if not selects:
        return _NOTHING, []
    return " UNION ALL ".join(selects), params


def register_rules() -> None:
    register(
        Rule(
            BreachKind.LOW_SATISFACTION,
            "unit",
            # A "baik" (B) service is the default aim; an agency may set its own target.
            {"target_grade": "B"},
            low_satisfaction,
            None,
            description="SKM grade of a closed period below the target, with a sufficient sample",
        )
    )
