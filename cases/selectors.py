"""Reads of cases, scoped by who asks; each returns its rows with what its page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from agencies.policy import Action, scope
from cases.models import (
    ActionReport,
    ActionStatus,
    Case,
    CaseState,
    CorrectiveAction,
    ExplanationRequest,
    Finding,
    Outcome,
)
from oversight.desk import is_reviewer
from oversight.models import Breach, BreachEvent

# What reviewers see of a breach's answers on the case page (the unit's own words).
ANSWER_KINDS = ("acknowledged", "explained", "remedied", "disputed", "explanation_asked")


def case_list_for_reviewer(*, state: str = "") -> QuerySet[Case]:
    cases = Case.objects.select_related("agency", "unit", "assignee").annotate(
        breach_count=Count("links")
    )
    cases = cases.order_by("-created_at", "-pk")
    return cases.filter(state=state) if state else cases


def case_list_for_agency(*, user: Any) -> QuerySet[Case]:
    """The cases the agency's staff were shown (from the first request or draft on)."""
    cases = Case.objects.filter(shown_to_agency_at__isnull=False).select_related("agency", "unit")
    return scope(user, cases, Action.ANSWER_BREACH)


def case_list_for(*, user: Any, state: str = "") -> QuerySet[Case]:
    if is_reviewer(user):
        return case_list_for_reviewer(state=state)
    cases = case_list_for_agency(user=user)
    return cases.filter(state=state) if state else cases


def cases_with_facts() -> QuerySet[Case]:
    return Case.objects.select_related("agency", "unit__agency", "service", "assignee")


def _actions_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "actions",
        queryset=CorrectiveAction.objects.select_related("recommendation").prefetch_related(
            Prefetch("reports", queryset=ActionReport.objects.select_related("author"))
        ),
    )


@dataclass
class CaseFile:
    """Everything on a case's page. `notes` and `events` stay empty for the agency."""

    case: Case
    breaches: list[Breach]
    requests: list[ExplanationRequest]
    finding: Finding | None
    actions: list[CorrectiveAction]
    charter: Any = None
    notes: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    notifications: list[Any] = field(default_factory=list)


def case_file(case: Case, *, for_reviewer: bool) -> CaseFile:
    """The case's file. Reviewers get the promise as it stood, the measured facts, each
    request's timeline, the unit's answers, the notifications sent, the internal notes and
    the history; the agency gets its requests, the findings and its actions only."""
    from notifications.models import Notification

    requests = list(
        ExplanationRequest.objects.filter(case=case).select_related("asked_by", "answered_by")
    )
    finding = Finding.objects.filter(case=case).prefetch_related(_actions_prefetch()).first()
    visible_finding = finding if (for_reviewer or (finding and finding.draft_issued_at)) else None
    actions = list(visible_finding.actions.all()) if visible_finding else []
    if not for_reviewer:
        return CaseFile(case, [], requests, visible_finding, actions)
    breaches = list(
        Breach.objects.filter(cases=case)
        .select_related("service", "version", "delivery")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=BreachEvent.objects.filter(kind__in=ANSWER_KINDS).select_related("actor"),
            ),
            "delivery__pauses",
        )
        .order_by("occurred_at", "pk")
    )
    breach_type = ContentType.objects.get_for_model(Breach)
    notifications = list(
        Notification.objects.filter(
            subject_type=breach_type,
            subject_id__in=[b.pk for b in breaches],
            parent__isnull=True,
        ).order_by("created_at", "pk")[:200]
    )
    from charter.models import Charter

    as_of = timezone.now()
    if case.period_end is not None:
        as_of = dt.datetime.combine(case.period_end, dt.time.max, tzinfo=dt.UTC)
    charter = (
        Charter.objects.filter(unit_id=case.unit_id, published_at__lte=as_of)
        .order_by("-published_at")
        .first()
    )
    return CaseFile(
        case,
        breaches,
        requests,
        finding,
        actions,
        charter=charter,
        notes=list(case.notes.select_related("author")),
        events=list(case.events.select_related("actor")),
        notifications=notifications,
    )


# --- What the public sees ---------------------------------------------------------------------


def published_findings(*, agency: Any = None, service: Any = None) -> QuerySet[Finding]:
    """Final findings, newest first, with their case's unit and service and their actions:
    anonymised by construction (the public template reads only the summary, the
    categories, and the actions' text, deadlines and status; never notes or breaches)."""
    findings = Finding.objects.filter(final_at__isnull=False).select_related(
        "case__unit", "case__service", "case__agency"
    )
    if agency is not None:
        findings = findings.filter(case__agency=agency)
    if service is not None:
        findings = findings.filter(case__service=service)
    return findings.prefetch_related(
        Prefetch(
            "actions",
            queryset=CorrectiveAction.objects.exclude(status=ActionStatus.PROPOSED)
            .select_related("recommendation")
            .order_by("pk"),
        )
    ).order_by("-final_at", "-pk")


PUBLIC_FINDINGS_SHOWN = 20


@dataclass
class PublicRecord:
    """What an agency's (or a service's) public page shows of the ombudsman's findings."""

    findings: list[Finding]
    findings_record: FindingRecord | None = None
    action_record: ActionRecord | None = None


def public_record(*, agency: Any = None, service: Any = None) -> PublicRecord:
    """The latest final findings (anonymised) and, for an agency, its record: findings by
    outcome and corrective actions done on time. A fixed number of queries."""
    findings = list(published_findings(agency=agency, service=service)[:PUBLIC_FINDINGS_SHOWN])
    if agency is None:
        return PublicRecord(findings)
    return PublicRecord(findings, findings_record(agency), corrective_actions_on_time(agency))


@dataclass(frozen=True)
class ActionRecord:
    """An agency's record of corrective actions whose deadline fell in a period."""

    due: int
    done_on_time: int
    done_late: int
    pending: int

    @property
    def on_time_share(self) -> Fraction | None:
        return Fraction(self.done_on_time, self.due) if self.due else None

    @property
    def on_time_percent(self) -> float | None:
        share = self.on_time_share
        return round(float(share) * 100, 1) if share is not None else None


def corrective_actions_on_time(
    agency: Any, period: tuple[dt.datetime, dt.datetime] | None = None
) -> ActionRecord:
    """Of the agency's corrective actions due in `period` ([start, end), None: all of them),
    how many were done (reported, then accepted) by their deadline. For the compliance
    assessment (Opini Ombudsman 2025 scores compliance with corrective actions) and the
    agency's public page. One query."""
    actions = CorrectiveAction.objects.filter(
        agency=agency, finding__final_at__isnull=False, due_at__isnull=False
    )
    if period is not None:
        actions = actions.filter(due_at__gte=period[0], due_at__lt=period[1])
    figures = actions.aggregate(
        n_due=Count("pk"),
        n_on_time=Count("pk", filter=Q(status=ActionStatus.ACCEPTED, on_time=True)),
        n_late=Count("pk", filter=Q(status=ActionStatus.ACCEPTED, on_time=False)),
    )
    due, on_time, late = figures["n_due"], figures["n_on_time"], figures["n_late"]
    return ActionRecord(due=due, done_on_time=on_time, done_late=late, pending=due - on_time - late)


@dataclass(frozen=True)
class FindingRecord:
    found: int
    not_found: int
    stopped: int


def findings_record(agency: Any) -> FindingRecord:
    figures = Finding.objects.filter(case__agency=agency, final_at__isnull=False).aggregate(
        found=Count("pk", filter=Q(outcome=Outcome.FOUND)),
        not_found=Count("pk", filter=Q(outcome=Outcome.NOT_FOUND)),
        stopped=Count("pk", filter=Q(outcome=Outcome.STOPPED)),
    )
    return FindingRecord(**figures)


def open_case_count() -> int:
    return Case.objects.exclude(state=CaseState.CLOSED).count()
