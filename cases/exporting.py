"""The findings and the corrective actions as CSV and XLSX, streamed (core.exporting).

Ombudsman reviewers export every row, with the internal notes and the complainant's
response; the agency's staff export only their own agency's (and unit's) cases shown to
them, without either. Rows are read in keyset chunks of CHUNK (one query per chunk, plus
one for the chunk's notes for reviewers), so memory stays flat in the data's size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from agencies.policy import Action, scope
from cases.models import ActionStatus, CaseNote, CorrectiveAction, Finding
from core import exporting
from oversight.desk import is_reviewer
from oversight.models import Maladministration

CHUNK = 1000

FINDING_COLUMNS = (
    "case",
    "agency",
    "unit",
    "service",
    "case_state",
    "outcome",
    "categories",
    "summary",
    "stop_reason",
    "draft_issued_at",
    "response_due_at",
    "agency_response",
    "agency_responded_at",
    "final_at",
)
# Reviewers only: never in an agency's export.
FINDING_REVIEWER_COLUMNS = (
    "complaint_id",
    "complainant_response",
    "complainant_responded_at",
    "internal_notes",
)
ACTION_COLUMNS = (
    "case",
    "agency",
    "unit",
    "service",
    "action_id",
    "action",
    "working_days",
    "due_at",
    "status",
    "state",
    "reported_done_at",
    "accepted_at",
    "on_time",
    "recommendation",
    "recommendation_due_at",
)

_FINDING_FIELDS = (
    "case__created_at",
    "case_id",
    "case__agency__name",
    "case__unit__name",
    "case__service__name",
    "case__state",
    "outcome",
    "categories",
    "summary",
    "stop_reason",
    "draft_issued_at",
    "response_due_at",
    "response",
    "responded_at",
    "final_at",
    "case__complaint_id",
    "reporter_response",
    "reporter_responded_at",
)
_ACTION_FIELDS = (
    "finding__case__created_at",
    "finding__case_id",
    "agency__name",
    "unit__name",
    "finding__case__service__name",
    "text",
    "due_days",
    "due_at",
    "status",
    "reported_done_at",
    "accepted_at",
    "on_time",
    "recommendation__text",
    "recommendation__due_at",
)


def _reference(created_at: Any, pk: int) -> str:
    return f"K-{created_at:%Y}-{pk:05d}"


def _chunks(queryset: QuerySet[Any], fields: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
    """Keyset pages of CHUNK rows (pk first), each one query, whatever the table's size.
    A page is emptied when the next is asked for (its consumer is done with it), so at
    most one page is held at a time."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:CHUNK])
        if not rows:
            return
        yield rows
        full = len(rows) == CHUNK
        last = rows[-1][0]
        rows.clear()
        if not full:
            return


def findings_for(user: Any) -> QuerySet[Finding]:
    findings = Finding.objects.all()
    if is_reviewer(user):
        return findings
    shown = findings.filter(case__shown_to_agency_at__isnull=False, draft_issued_at__isnull=False)
    return scope(
        user, shown, Action.ANSWER_BREACH, agency_field="case__agency", unit_field="case__unit"
    )


def actions_for(user: Any) -> QuerySet[CorrectiveAction]:
    actions = CorrectiveAction.objects.all()
    if is_reviewer(user):
        return actions
    shown = actions.filter(
        finding__case__shown_to_agency_at__isnull=False, finding__draft_issued_at__isnull=False
    )
    return scope(user, shown, Action.ANSWER_BREACH)


def finding_columns(user: Any) -> tuple[str, ...]:
    return FINDING_COLUMNS + (FINDING_REVIEWER_COLUMNS if is_reviewer(user) else ())


def finding_rows(user: Any) -> Iterator[tuple[Any, ...]]:
    reviewer = is_reviewer(user)
    labels = dict(Maladministration.choices)
    notes: dict[int, list[str]] = {}
    for chunk in _chunks(findings_for(user), _FINDING_FIELDS):
        notes.clear()
        if reviewer:
            for case_id, at, text in (
                CaseNote.objects.filter(case_id__in=[row[2] for row in chunk])
                .order_by("created_at", "pk")
                .values_list("case_id", "created_at", "text")
            ):
                notes.setdefault(case_id, []).append(f"{at:%Y-%m-%d}: {text}")
        for (
            _pk,
            created,
            case_id,
            agency,
            unit,
            service,
            state,
            outcome,
            categories,
            summary,
            stop_reason,
            drafted,
            response_due,
            response,
            responded,
            final,
            complaint_id,
            reporter_response,
            reporter_responded,
        ) in chunk:
            row: tuple[Any, ...] = (
                _reference(created, case_id),
                agency,
                unit,
                service,
                state,
                outcome,
                "; ".join(str(labels.get(c, c)) for c in categories or []),
                summary,
                stop_reason,
                drafted,
                response_due,
                response,
                responded,
                final,
            )
            if reviewer:
                row += (
                    complaint_id,
                    reporter_response,
                    reporter_responded,
                    "\n".join(notes.get(case_id, [])),
                )
            yield row
        notes.clear()


def _state(status: str, on_time: bool | None, recommended: bool, due_at: Any, now: Any) -> str:
    """As CorrectiveAction.public_state, from the exported values."""
    if status == ActionStatus.ACCEPTED:
        return "done_on_time" if on_time else "done_late"
    if recommended:
        return "recommendation"
    if due_at is not None and due_at < now:
        return "overdue"
    return "open"


def action_rows(user: Any) -> Iterator[tuple[Any, ...]]:
    now = timezone.now()
    for chunk in _chunks(actions_for(user), _ACTION_FIELDS):
        for (
            pk,
            created,
            case_id,
            agency,
            unit,
            service,
            text,
            due_days,
            due_at,
            status,
            reported,
            accepted,
            on_time,
            recommendation,
            recommendation_due,
        ) in chunk:
            yield (
                _reference(created, case_id),
                agency,
                unit,
                service,
                pk,
                text,
                due_days,
                due_at,
                status,
                _state(status, on_time, recommendation is not None, due_at, now),
                reported,
                accepted,
                "" if on_time is None else ("yes" if on_time else "no"),
                recommendation,
                recommendation_due,
            )


def findings_csv(user: Any) -> Iterator[bytes]:
    return exporting.csv_chunks(finding_columns(user), finding_rows(user))


def findings_xlsx(user: Any) -> IO[bytes]:
    return exporting.xlsx_file(finding_columns(user), finding_rows(user), title="findings")


def actions_csv(user: Any) -> Iterator[bytes]:
    return exporting.csv_chunks(ACTION_COLUMNS, action_rows(user))


def actions_xlsx(user: Any) -> IO[bytes]:
    return exporting.xlsx_file(ACTION_COLUMNS, action_rows(user), title="actions")
