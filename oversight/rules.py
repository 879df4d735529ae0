"""Breach rules: each kind is one `Rule` registered here, with its settings as data.

A rule is a SELECT producing breach rows; the sweep wraps it in
`INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id`, so a rule never loops
over rows in Python and running it twice (or twice at once) changes nothing.
Adding a kind = one `Rule(...)` and one `register(...)`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from oversight.models import Breach, BreachKind, BreachRule, Maladministration

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")


@dataclass
class SweepContext:
    now: Any
    since: Any  # changes at or after this moment are (re)examined
    today: Any
    current_month: str


@dataclass(frozen=True)
class Rule:
    kind: str
    subject_type: str
    defaults: dict[str, Any]
    # Returns (SELECT sql producing the INSERT_COLUMNS, params). Unless the rule is grouped,
    # the SQL ends with a WHERE clause to which the sweep may append "AND <subject_column> = %s".
    select: Callable[[SweepContext, RuleSettings], tuple[str, list[Any]]]
    subject_column: str | None  # for re-running row by row after a failure (None: grouped rules)
    description: str = ""
    category: str = ""


INSERT_COLUMNS = (
    "kind, subject_type, subject_id, period, agency_id, unit_id, service_id, version_id, "
    "delivery_id, measured_value, promised_value, value_unit, severity, occurred_at, "
    "detected_at, status, suggested_category, decided_category"
)

REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    REGISTRY[rule.kind] = rule
    return rule


@dataclass
class RuleSettings:
    """Resolved settings of one rule: national values, per-agency overrides, switched-off agencies."""

    national: dict[str, Any]
    per_agency: dict[int, dict[str, Any]] = field(default_factory=dict)
    inactive_agencies: set[int] = field(default_factory=set)
    active: bool = True

    def case(self, key: str, agency_column: str) -> tuple[str, list[Any]]:
        """A SQL CASE giving `key` per agency (national value by default)."""
        overrides = [(a, s[key]) for a, s in self.per_agency.items() if key in s]
        if not overrides:
            return "%s", [self.national[key]]
        sql = "CASE " + " ".join(f"WHEN {agency_column} = %s THEN %s" for _ in overrides)
        params: list[Any] = []
        for agency_id, value in overrides:
            params += [agency_id, value]
        return sql + " ELSE %s END", [*params, self.national[key]]

    def exclude_inactive(self, agency_column: str) -> tuple[str, list[Any]]:
        if not self.inactive_agencies:
            return "", []
        marks = ", ".join(["%s"] * len(self.inactive_agencies))
        return f" AND {agency_column} NOT IN ({marks})", sorted(self.inactive_agencies)


def settings_for(rule: Rule) -> RuleSettings:
    national = dict(rule.defaults)
    resolved = RuleSettings(national=national)
    for row in BreachRule.objects.filter(kind=rule.kind):
        if row.agency_id is None:
            national.update(row.settings or {})
            resolved.active = row.is_active
        elif not row.is_active:
            resolved.inactive_agencies.add(row.agency_id)
        else:
            resolved.per_agency[row.agency_id] = row.settings or {}
    return resolved


# --- SQL helpers for the two engines we run on ---------------------------------------
def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def month_key(column: str) -> str:
    """The calendar month (in WIB) of a timestamp column, as 'YYYY-MM'."""
    if _is_pg():
        return f"to_char({column} AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {column}, '+7 hours')"


def date_start(column: str) -> str:
    """Midnight WIB at the start of a date column, as a timestamp."""
    if _is_pg():
        return f"({column}::timestamp AT TIME ZONE 'Asia/Jakarta')"
    return f"datetime({column}, '-7 hours')"


def month_start(month: str) -> dt.datetime:
    """Midnight WIB on the first day of a 'YYYY-MM' month, as an aware datetime."""
    year, number = (int(part) for part in month.split("-"))
    return dt.datetime(year, number, 1, tzinfo=WIB)


def _tables() -> dict[str, str]:
    from charter.models import Charter
    from delivery.models import ServiceDelivery
    from services.models import Service, StandardVersion

    return {
        "delivery": ServiceDelivery._meta.db_table,
        "version": StandardVersion._meta.db_table,
        "service": Service._meta.db_table,
        "charter": Charter._meta.db_table,
        "breach": Breach._meta.db_table,
    }


# --- The rules ---------------------------------------------------------------------------
def _late_delivery(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    very, very_params = rs.case("very_overdue_after_days", "d.agency_id")
    inactive, inactive_params = rs.exclude_inactive("d.agency_id")
    sql = f"""
        SELECT 'late_delivery', 'delivery', d.id, '', d.agency_id, d.unit_id, d.service_id,
               d.version_id, d.id, d.working_days_taken, d.promise_value, d.promise_unit,
               CASE WHEN d.promise_unit = 'working_days'
                         AND d.working_days_taken - d.promise_value - d.paused_working_days > {very}
                    THEN 'very_overdue' ELSE 'overdue' END,
               d.due_at, %s, 'open', %s, ''
        FROM {t["delivery"]} d
        WHERE d.status = 'completed' AND d.due_at IS NOT NULL AND d.completed_at > d.due_at
          AND d.updated_at >= %s{inactive}"""
    return sql, [*very_params, ctx.now, Maladministration.UNDUE_DELAY, ctx.since, *inactive_params]


def _seconds_between(start: str, end: str) -> str:
    if _is_pg():
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def _at_risk(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    """An open request that has used a configurable share of its time (default 80%) before
    its deadline: a warning to the unit while the promise can still be kept."""
    t = _tables()
    share, share_params = rs.case("share_used_percent", "d.agency_id")
    inactive, inactive_params = rs.exclude_inactive("d.agency_id")
    elapsed = _seconds_between("d.clock_started_at", "%s")
    allowed = _seconds_between("d.clock_started_at", "d.due_at")
    sql = f"""
        SELECT 'at_risk', 'delivery', d.id, '', d.agency_id, d.unit_id, d.service_id,
               d.version_id, d.id, NULL, d.promise_value, d.promise_unit, 'at_risk',
               %s, %s, 'open', '', ''
        FROM {t["delivery"]} d
        WHERE d.status = 'open' AND d.due_at > %s AND d.clock_started_at IS NOT NULL
          AND d.due_at > d.clock_started_at
          AND {elapsed} * 100.0 >= {share} * {allowed}{inactive}"""
    return sql, [ctx.now, ctx.now, ctx.now, ctx.now, *share_params, *inactive_params]


def _overdue_open(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("d.agency_id")
    # Flagged as soon as the deadline passes: deadlines that passed since the last sweep,
    # plus rows that changed since then.
    sql = f"""
        SELECT 'overdue_open', 'delivery', d.id, '', d.agency_id, d.unit_id, d.service_id,
               d.version_id, d.id, NULL, d.promise_value, d.promise_unit, 'overdue',
               d.due_at, %s, 'open', %s, ''
        FROM {t["delivery"]} d
        WHERE d.status = 'open'
          AND ((d.due_at >= %s AND d.due_at < %s) OR (d.updated_at >= %s AND d.due_at < %s))
          {inactive}"""
    # Each arm of the OR is a range on its own index (the partial due_at index of open
    # requests; updated_at), so the backlog of long-overdue requests is never rescanned.
    return sql, [
        ctx.now,
        Maladministration.UNDUE_DELAY,
        ctx.since,
        ctx.now,
        ctx.since,
        ctx.now,
        *inactive_params,
    ]


def _overcharge(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("d.agency_id")
    sql = f"""
        SELECT 'overcharge', 'delivery', d.id, '', d.agency_id, d.unit_id, d.service_id,
               d.version_id, d.id, d.fee_charged, d.promised_cost, 'rupiah', 'overdue',
               COALESCE(d.completed_at, d.submitted_at), %s, 'open', %s, ''
        FROM {t["delivery"]} d
        WHERE d.fee_charged > d.promised_cost AND d.status <> 'withdrawn'
          AND d.updated_at >= %s{inactive}"""
    return sql, [ctx.now, Maladministration.ILLEGAL_CHARGE, ctx.since, *inactive_params]


def _service_level_miss(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    """A service's on-time rate over a closed calendar month (WIB) below its target.

    Only the (service, month) pairs touched since the last sweep, and not already flagged,
    are recounted. On PostgreSQL each pair is read as a completed_at range on the (service,
    completed_at) index, so the cost grows with the pairs touched, not with history.
    """
    t = _tables()
    target, target_params = rs.case("target_percent", "m.agency_id")
    minimum, minimum_params = rs.case("min_sample", "m.agency_id")
    inactive, inactive_params = rs.exclude_inactive("m.agency_id")
    if _is_pg():
        # The touched pairs: changed rows of a closed month (a plain range on completed_at,
        # the same test as "its WIB month is before the current one"). A pair that already
        # has its breach is left out before it is counted (the INSERT would skip it anyway:
        # ON CONFLICT DO NOTHING). Each remaining pair is counted by a LATERAL range read on
        # the (service, completed_at) index, so the cost is the touched pairs, never history.
        grouped = f"""
            SELECT p.service_id, to_char(p.month, 'YYYY-MM') AS period, a.agency_id,
                   a.unit_id, a.version_id, a.total, a.last_due, a.on_time
            FROM (
                SELECT DISTINCT c.service_id,
                       date_trunc('month', c.completed_at AT TIME ZONE 'Asia/Jakarta') AS month
                FROM {t["delivery"]} c
                WHERE c.status = 'completed' AND c.due_at IS NOT NULL AND c.updated_at >= %s
                  AND c.completed_at < %s
            ) p
            CROSS JOIN LATERAL (
                SELECT MAX(d.agency_id) AS agency_id, MAX(d.unit_id) AS unit_id,
                       MAX(d.version_id) AS version_id, COUNT(*) AS total,
                       MAX(d.due_at) AS last_due,
                       SUM(CASE WHEN d.completed_at <= d.due_at THEN 1 ELSE 0 END) AS on_time
                FROM {t["delivery"]} d
                WHERE d.service_id = p.service_id
                  AND d.completed_at >= (p.month AT TIME ZONE 'Asia/Jakarta')
                  AND d.completed_at < ((p.month + interval '1 month') AT TIME ZONE 'Asia/Jakarta')
                  AND d.status = 'completed' AND d.due_at IS NOT NULL
            ) a
            WHERE NOT EXISTS (
                SELECT 1 FROM {t["breach"]} b
                WHERE b.kind = 'service_level_miss' AND b.subject_type = 'service'
                  AND b.subject_id = p.service_id AND b.period = to_char(p.month, 'YYYY-MM'))"""
        grouped_params: list[Any] = [ctx.since, month_start(ctx.current_month)]
    else:
        month = month_key("d.completed_at")
        touched_month = month_key("c.completed_at")
        grouped = f"""
            SELECT d.service_id, {month} AS period, MAX(d.agency_id) AS agency_id,
                   MAX(d.unit_id) AS unit_id, MAX(d.version_id) AS version_id,
                   COUNT(*) AS total, MAX(d.due_at) AS last_due,
                   SUM(CASE WHEN d.completed_at <= d.due_at THEN 1 ELSE 0 END) AS on_time
            FROM {t["delivery"]} d
            WHERE d.status = 'completed' AND d.due_at IS NOT NULL
              AND {month} < %s
              AND {month} IN (
                  SELECT DISTINCT {touched_month} FROM {t["delivery"]} c
                  WHERE c.status = 'completed' AND c.updated_at >= %s)
            GROUP BY d.service_id, {month}"""
        grouped_params = [ctx.current_month, ctx.since]
    sql = f"""
        SELECT 'service_level_miss', 'service', m.service_id, m.period, m.agency_id, m.unit_id,
               m.service_id, m.version_id, NULL,
               ROUND(100.0 * m.on_time / m.total, 2), {target}, 'percent', 'overdue',
               m.last_due, %s, 'open', %s, ''
        FROM ({grouped}
        ) m
        WHERE m.total >= {minimum} AND 100.0 * m.on_time < {target} * m.total{inactive}"""
    params = [
        *target_params,
        ctx.now,
        Maladministration.UNDUE_DELAY,
        *grouped_params,
        *minimum_params,
        *target_params,
        *inactive_params,
    ]
    return sql, params


def _stale_standard(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("s.agency_id")
    sql = f"""
        SELECT 'stale_standard', 'version', v.id, CAST(v.next_review_date AS VARCHAR(20)),
               s.agency_id, s.unit_id, s.id, v.id, NULL, NULL, NULL, '', 'notice',
               {date_start("v.next_review_date")}, %s, 'open', '', ''
        FROM {t["version"]} v JOIN {t["service"]} s ON s.id = v.service_id
        WHERE v.status = 'published' AND v.next_review_date < %s{inactive}"""
    return sql, [ctx.now, ctx.today, *inactive_params]


def _missing_charter(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("s.agency_id")
    sql = f"""
        SELECT 'missing_charter', 'unit', s.unit_id, '', MAX(s.agency_id), s.unit_id, NULL, NULL,
               NULL, NULL, NULL, '', 'notice', %s, %s, 'open', '', ''
        FROM {t["service"]} s JOIN {t["version"]} v ON v.service_id = s.id AND v.status = 'published'
        WHERE NOT EXISTS (
            SELECT 1 FROM {t["charter"]} c WHERE c.unit_id = s.unit_id AND c.status = 'published'){inactive}
        GROUP BY s.unit_id"""
    return sql, [ctx.now, ctx.now, *inactive_params]


def _incomplete_standard(ctx: SweepContext, rs: RuleSettings) -> tuple[str, list[Any]]:
    t = _tables()
    inactive, inactive_params = rs.exclude_inactive("s.agency_id")
    sql = f"""
        SELECT 'incomplete_standard', 'version', v.id, '', s.agency_id, s.unit_id, s.id, v.id,
               NULL, NULL, 14, 'components', 'notice', v.published_at, %s, 'open', '', ''
        FROM {t["version"]} v JOIN {t["service"]} s ON s.id = v.service_id
        WHERE v.status = 'published' AND v.incomplete_acknowledged{inactive}"""
    return sql, [ctx.now, *inactive_params]


register(
    Rule(
        BreachKind.LATE_DELIVERY,
        "delivery",
        {"very_overdue_after_days": 5},
        _late_delivery,
        "d.id",
        category=Maladministration.UNDUE_DELAY,
    )
)
register(
    Rule(
        BreachKind.OVERDUE_OPEN,
        "delivery",
        {},
        _overdue_open,
        "d.id",
        category=Maladministration.UNDUE_DELAY,
    )
)
register(
    Rule(
        BreachKind.OVERCHARGE,
        "delivery",
        {},
        _overcharge,
        "d.id",
        category=Maladministration.ILLEGAL_CHARGE,
    )
)
register(
    Rule(
        BreachKind.SERVICE_LEVEL_MISS,
        "service",
        {"target_percent": 90, "min_sample": settings.MAKLUMAT["MIN_SAMPLE"]},
        _service_level_miss,
        None,
        category=Maladministration.UNDUE_DELAY,
    )
)
register(Rule(BreachKind.STALE_STANDARD, "version", {}, _stale_standard, "v.id"))
register(Rule(BreachKind.MISSING_CHARTER, "unit", {}, _missing_charter, None))
register(Rule(BreachKind.INCOMPLETE_STANDARD, "version", {}, _incomplete_standard, "v.id"))
register(Rule(BreachKind.AT_RISK, "delivery", {"share_used_percent": 80}, _at_risk, "d.id"))
