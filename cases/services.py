"""Every write to a case: opening it from breaches, and `case_transition`, the one function
that moves a case through its flow (cases/flow.py). Each call locks the case row, checks
the table, does the action's work, writes a `CaseEvent` (who, what, when) and any outbox
rows in one transaction.

Deadlines are counted on the unit's calendar by the one clock (agencies/calendars.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.calendars import CalendarDays, calendar_for_unit
from agencies.models import Unit
from agencies.policy import Action, can
from cases import flow
from cases.models import (
    DEFAULT_ACTION_DAYS,
    DEFAULT_DRAFT_RESPONSE_DAYS,
    DEFAULT_EXPLANATION_DAYS,
    DEFAULT_INFO_DAYS,
    DEFAULT_RECOMMENDATION_DAYS,
    DUE_SOON_WORKING_DAYS,
    ActionReport,
    ActionStatus,
    Case,
    CaseBreach,
    CaseEvent,
    CaseNote,
    CaseState,
    CorrectiveAction,
    ExplanationRequest,
    Finding,
    Outcome,
    Recommendation,
)
from cases.notices import (
    ACTION_DUE,
    ACTION_DUE_SOON,
    ACTION_REJECTED,
    AGENCY_ANSWERED,
    DRAFT_FINDINGS,
    EXPLANATION_REQUESTED,
    RECOMMENDATION_ISSUED,
    REPORTER_RESPONDED,
)
from core.errors import ApplicationError, PermissionDeniedError
from notifications.keys import idempotency_key
from notifications.models import Notification
from notifications.outbox.insert import insert_notifications
from oversight.answers import check_attachment
from oversight.desk import is_reviewer
from oversight.models import Breach, Maladministration

TEXT_MAX = 10_000
DAYS_MAX = 365
ACTIONS_MAX = 20


# --- Who is acting --------------------------------------------------------------------------


def role_of(user: Any, case: Case) -> str | None:
    """The user's role on this case: an ombudsman reviewer, the agency's staff (who may
    answer for its unit, once the case is shown to the agency), or nobody."""
    if user is None:
        return None
    if is_reviewer(user):
        return flow.REVIEWER
    if case.shown_to_agency_at is not None and can(user, Action.ANSWER_BREACH, case):
        return flow.AGENCY
    return None


# --- Deadlines on the unit's calendar --------------------------------------------------------


def due_after(unit: Unit, start: dt.datetime, days: int, *, working: bool = True) -> dt.datetime:
    """The end of the `days`th (working) day after `start`'s local date, on the unit's
    calendar (the start day not counted: DOMAIN.md's convention)."""
    calendar = CalendarDays(calendar_for_unit(unit))
    due = calendar.due_in_days(calendar.local_date(start), days, working=working)
    return due.at


def remind_before(unit: Unit, start: dt.datetime, days: int) -> dt.datetime | None:
    """When the "due soon" reminder of an action of `days` working days opened at `start`
    goes out: at the end of the working day after which DUE_SOON_WORKING_DAYS working days
    remain. None when the action is that short (its opening message says it all)."""
    if days <= DUE_SOON_WORKING_DAYS:
        return None
    return due_after(unit, start, days - DUE_SOON_WORKING_DAYS)


def _days(value: Any, default: int, field: str) -> int:
    if value in (None, ""):
        return default
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ApplicationError(_("Enter a whole number of days."), field=field) from None
    if not 1 <= days <= DAYS_MAX:
        raise ApplicationError(
            _("Enter between 1 and %(max)d days.") % {"max": DAYS_MAX}, field=field
        )
    return days


def _text(value: Any, field: str, message: str, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ApplicationError(message, code="required", field=field)
    if len(text) > TEXT_MAX:
        raise ApplicationError(
            _("Write at most %(max)d characters.") % {"max": TEXT_MAX}, field=field
        )
    return text


# --- The outbox ------------------------------------------------------------------------------


def _notify(event: str, subject: models.Model, case: Case) -> None:
    """One fan-out row about `subject` (an object of the case), written in the caller's
    transaction: the unit and the agency admins hear of what they must do, the reviewers of
    the agency's answers."""
    to_reviewers = event in (AGENCY_ANSWERED, REPORTER_RESPONDED)
    recipient = "reviewers" if to_reviewers else f"unit:{case.unit_id}"
    subject_type = ContentType.objects.get_for_model(type(subject))
    insert_notifications(
        [
            Notification(
                event=event,
                subject_type=subject_type,
                subject_id=subject.pk,
                unit_id=case.unit_id,
                channel="email",
                level=0,
                idempotency_key=idempotency_key(
                    event=event,
                    subject=f"{subject_type.model}{subject.pk}",
                    recipient=recipient,
                    channel="email",
                    level=0,
                ),
            )
        ]
    )


# --- Opening a case --------------------------------------------------------------------------


def _check_reviewer(user: Any) -> None:
    if not is_reviewer(user):
        raise PermissionDeniedError()


@dataclass(frozen=True)
class ComplaintRef:
    """What a case needs of the complaint it is opened from (feedback builds it: cases
    knows nothing of complaints). No identity: the case never holds the complainant's name
    or contact, only the complaint's number."""

    complaint_id: int
    agency_id: int
    unit_id: int
    service_id: int | None
    occurred_on: dt.date
    title: str


def case_open(
    *,
    breach_ids: Sequence[int],
    acting_user: Any,
    title: str = "",
    urgent: bool = False,
    now: dt.datetime | None = None,
    complaint: ComplaintRef | None = None,
) -> Case:
    """Open a case from breaches of one unit (selected at the desk, or a group found by
    `case_open_for_group`). A breach already in a case is refused: one matter, one case.

    Also the hook for complaints (feedback.complaints.services.complaint_open_case): a
    complaint opens a case with its linked breaches (none is fine), about the complaint's
    unit; a complaint already in a case is refused.
    """
    now = now or timezone.now()
    _check_reviewer(acting_user)
    ids = sorted(set(breach_ids))
    if not ids and complaint is None:
        raise ApplicationError(_("Select at least one breach."), code="required", field="breach")
    if len(ids) > 500:
        raise ApplicationError(_("A case groups at most 500 breaches."), field="breach")
    with transaction.atomic():
        breaches = list(
            Breach.objects.select_for_update(of=("self",))
            .select_related("unit")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        if len(breaches) != len(ids):
            raise ApplicationError(_("Some of these breaches do not exist."), field="breach")
        units = {b.unit_id for b in breaches} | ({complaint.unit_id} if complaint else set())
        if len(units) != 1:
            raise ApplicationError(
                _("A case is about one unit: select breaches of one unit."),
                code="one_unit",
                field="breach",
            )
        taken = list(
            CaseBreach.objects.filter(breach_id__in=ids).values_list("breach_id", flat=True)
        )
        if taken:
            raise ApplicationError(
                _("These breaches are already in a case: %(ids)s.")
                % {"ids": ", ".join(f"#{pk}" for pk in sorted(taken))},
                code="taken",
                field="breach",
            )
        if complaint is not None and (
            Case.objects.select_for_update().filter(complaint_id=complaint.complaint_id).exists()
        ):
            raise ApplicationError(
                _("This complaint is already in a case."), code="taken", field="complaint"
            )
        kinds = {b.kind for b in breaches}
        services = {b.service_id for b in breaches}
        dates = sorted(timezone.localtime(b.occurred_at).date() for b in breaches)
        if complaint is not None:
            services.add(complaint.service_id)
            dates = sorted([*dates, complaint.occurred_on])
        kind = kinds.pop() if len(kinds) == 1 else ""
        title = _text(title, "title", "", required=False)[:200]
        if not title and complaint is not None:
            title = complaint.title[:200]
        if not title:
            first = breaches[0]
            label = dict(first._meta.get_field("kind").choices or []).get(kind, _("Breaches"))
            title = f"{label} · {first.unit.name}"[:200]
        agency_id, unit_id = (
            (complaint.agency_id, complaint.unit_id)
            if complaint is not None
            else (breaches[0].agency_id, breaches[0].unit_id)
        )
        case = Case.objects.create(
            agency_id=agency_id,
            unit_id=unit_id,
            service_id=services.pop() if len(services) == 1 else None,
            title=title,
            kind=kind,
            period_start=dates[0],
            period_end=dates[-1],
            urgent=urgent,
            assignee=acting_user,
            complaint_id=complaint.complaint_id if complaint is not None else None,
            created_at=now,
        )
        CaseBreach.objects.bulk_create([CaseBreach(case=case, breach=b) for b in breaches])
        opened = _("%(count)d breaches") % {"count": len(breaches)}
        if complaint is not None:
            opened = _("From a complaint; %(opened)s") % {"opened": opened}
        CaseEvent.objects.create(
            case=case,
            action="open",
            to_state=case.state,
            actor=acting_user,
            text=opened,
            created_at=now,
        )
    return case


def case_open_for_group(
    *,
    unit: Unit,
    kind: str,
    period_start: dt.date,
    period_end: dt.date,
    acting_user: Any,
    now: dt.datetime | None = None,
) -> Case:
    """Open a case for every breach of one unit and kind in a period not yet in a case."""
    _check_reviewer(acting_user)
    if period_end < period_start:
        raise ApplicationError(_("The period ends before it starts."), field="period_end")
    ids = list(
        Breach.objects.filter(
            unit=unit,
            kind=kind,
            occurred_at__date__gte=period_start,
            occurred_at__date__lte=period_end,
        )
        .exclude(pk__in=CaseBreach.objects.values("breach_id"))
        .values_list("pk", flat=True)[:500]
    )
    if not ids:
        raise ApplicationError(
            _("No breach of this unit and kind in this period is left to group."), field="unit"
        )
    return case_open(breach_ids=ids, acting_user=acting_user, now=now)


def case_note_add(*, case: Case, acting_user: Any, text: str) -> CaseNote:
    """An internal note (reviewers only; never shown to the agency or the public)."""
    _check_reviewer(acting_user)
    text = _text(text, "text", _("Write the note."))
    return CaseNote.objects.create(
        case=case, author=acting_user, text=text, created_at=timezone.now()
    )


# --- The flow --------------------------------------------------------------------------------


Handler = Callable[[Case, Any, dt.datetime, dict[str, Any]], str]


def case_transition(
    case: Case,
    action: str,
    actor: Any,
    *,
    now: dt.datetime | None = None,
    system: bool = False,
    reporter: bool = False,
    **data: Any,
) -> Case:
    """Do `action` to `case` as `actor` (a user; `system=True` for the platform's tasks,
    `reporter=True` for the complainant of a case from a complaint, who has no account).

    Refused (PermissionDeniedError) unless (state, action) is in `flow.TRANSITIONS` and
    the actor's role on the case is one it allows; the action's own checks raise
    ApplicationError with the field at fault. All or nothing.
    """
    now = now or timezone.now()
    handler = HANDLERS.get(action)
    if handler is None:
        raise PermissionDeniedError()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("unit__agency").get(pk=case.pk)
        role = flow.SYSTEM if system else flow.REPORTER if reporter else role_of(actor, locked)
        entry = flow.TRANSITIONS.get((locked.state, action))
        if entry is None:
            raise ApplicationError(
                _("This cannot be done to a case in the state “%(state)s”.")
                % {"state": locked.get_state_display()},
                code="refused",
            )
        next_state, roles = entry
        if role not in roles:
            raise PermissionDeniedError()
        from_state = locked.state
        text = handler(locked, actor, now, data)
        locked.state = next_state
        locked.save()
        CaseEvent.objects.create(
            case=locked,
            action=action,
            from_state=from_state,
            to_state=next_state,
            actor=None if system or reporter else actor,
            text=text,
            created_at=now,
        )
    return locked


def _noop(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    return _text(data.get("text"), "text", "", required=False)


def _fast_track(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    case.urgent = True
    return _noop(case, actor, now, data)


def _request_info(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    text = _text(data.get("text"), "text", _("Write what information is missing."))
    days = _days(data.get("days"), DEFAULT_INFO_DAYS, "days")
    # Calendar days (Perom 58/2023: 30 days to complete a report).
    case.info_due_at = due_after(case.unit, now, days, working=False)
    return text


def _info_received(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    case.info_due_at = None
    return _noop(case, actor, now, data)


def _close_incomplete(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    if actor is None and (case.info_due_at is None or case.info_due_at > now):
        raise ApplicationError(_("The information is not overdue yet."), code="not_due")
    return _noop(case, actor, now, data)


def _id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _finding(case: Case) -> Finding | None:
    return Finding.objects.filter(case=case).first()


def _stop(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    reason = _text(data.get("text"), "text", _("Give the reason for stopping."))
    finding = _finding(case) or Finding(case=case)
    finding.outcome = Outcome.STOPPED
    finding.categories = []
    finding.stop_reason = reason
    finding.summary = _text(data.get("summary"), "summary", "", required=False)
    finding.final_at = now
    finding.save()
    finding.actions.all().delete()
    return reason


def _request_explanation(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    question = _text(data.get("text"), "text", _("Write what the unit should explain."))
    days = _days(data.get("days"), DEFAULT_EXPLANATION_DAYS, "days")
    request = ExplanationRequest.objects.create(
        case=case,
        question=question,
        asked_by=actor,
        asked_at=now,
        due_days=days,
        due_at=due_after(case.unit, now, days),
    )
    case.shown_to_agency_at = case.shown_to_agency_at or now
    _notify(EXPLANATION_REQUESTED, request, case)
    return question


def _answer_explanation(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    request = (
        ExplanationRequest.objects.select_for_update()
        .filter(case=case, pk=_id(data.get("request_id")))
        .first()
    )
    if request is None:
        raise ApplicationError(_("This request does not exist."), field="request_id")
    if request.answered_at is not None:
        raise ApplicationError(_("This request is already answered."), code="answered")
    answer = _text(data.get("text"), "text", _("Write the explanation."))
    attachment: UploadedFile | None = data.get("attachment")
    if attachment is not None:
        check_attachment(attachment)
        request.attachment.save(attachment.name or "attachment", attachment, save=False)
    request.answer = answer
    request.answered_at = now
    request.answered_by = actor
    request.save()
    _notify(AGENCY_ANSWERED, request, case)
    return answer


def _categories(data: dict[str, Any]) -> list[str]:
    raw = data.get("categories") or []
    values = [str(v) for v in raw]
    bad = [v for v in values if v not in Maladministration.values]
    if bad:
        raise ApplicationError(_("Choose categories from the list."), field="categories")
    return list(dict.fromkeys(values))


def _action_rows(data: dict[str, Any]) -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    for item in data.get("actions") or []:
        text, days = (item, None) if isinstance(item, str) else item
        text = _text(text, "actions", "", required=False)
        if text:
            rows.append((text, _days(days, DEFAULT_ACTION_DAYS, "actions")))
    if len(rows) > ACTIONS_MAX:
        raise ApplicationError(
            _("At most %(max)d corrective actions.") % {"max": ACTIONS_MAX}, field="actions"
        )
    return rows


def _issue_draft(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    outcome = data.get("outcome")
    if outcome not in (Outcome.FOUND, Outcome.NOT_FOUND):
        raise ApplicationError(_("Choose found or not found."), field="outcome")
    categories = _categories(data)
    actions = _action_rows(data)
    if outcome == Outcome.FOUND:
        if not categories:
            raise ApplicationError(
                _("Choose at least one category of maladministration."), field="categories"
            )
        if not actions:
            raise ApplicationError(
                _("A finding of maladministration carries at least one corrective action."),
                field="actions",
            )
    else:
        categories, actions = [], []
    days = _days(data.get("days"), DEFAULT_DRAFT_RESPONSE_DAYS, "days")
    finding = _finding(case) or Finding(case=case)
    finding.outcome = outcome
    finding.categories = categories
    finding.summary = _text(data.get("summary"), "summary", _("Write the findings' summary."))
    finding.draft_issued_at = now
    finding.response_due_at = due_after(case.unit, now, days)
    finding.save()
    finding.actions.all().delete()
    CorrectiveAction.objects.bulk_create(
        [
            CorrectiveAction(
                finding=finding,
                agency_id=case.agency_id,
                unit_id=case.unit_id,
                text=text,
                due_days=action_days,
            )
            for text, action_days in actions
        ]
    )
    case.shown_to_agency_at = case.shown_to_agency_at or now
    _notify(DRAFT_FINDINGS, finding, case)
    return finding.summary


def _respond_draft(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    finding = _finding(case)
    if finding is None:
        raise ApplicationError(_("There is no draft to respond to."))
    if finding.responded_at is not None:
        raise ApplicationError(_("The agency has already responded."), code="answered")
    if finding.response_due_at is not None and now > finding.response_due_at:
        raise ApplicationError(_("The time to respond has passed."), code="late")
    finding.response = _text(data.get("text"), "text", _("Write the response."))
    finding.responded_at = now
    finding.responded_by = actor
    finding.save()
    _notify(AGENCY_ANSWERED, finding, case)
    return finding.response


def _reporter_respond(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    """The complainant's response to the draft findings (a case from a complaint only),
    within the window the agency has; the reviewers hear of it."""
    finding = _finding(case)
    if case.complaint_id is None or finding is None or finding.draft_issued_at is None:
        raise ApplicationError(_("There is no draft to respond to."))
    if finding.reporter_responded_at is not None:
        raise ApplicationError(_("You have already responded."), code="answered")
    if finding.response_due_at is not None and now > finding.response_due_at:
        raise ApplicationError(_("The time to respond has passed."), code="late")
    finding.reporter_response = _text(data.get("text"), "text", _("Write the response."))
    finding.reporter_responded_at = now
    finding.save()
    _notify(REPORTER_RESPONDED, finding, case)
    return finding.reporter_response


def _finalise(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    finding = _finding(case)
    if finding is None:
        raise ApplicationError(_("Issue the draft findings first."))
    summary = _text(data.get("summary"), "summary", "", required=False)
    if summary:
        finding.summary = summary
    finding.final_at = now
    finding.save()
    for action in finding.actions.filter(status=ActionStatus.PROPOSED):
        action.status = ActionStatus.OPEN
        action.due_at = due_after(case.unit, now, action.due_days)
        action.remind_at = remind_before(case.unit, now, action.due_days)
        action.save()
        _notify(ACTION_DUE, action, case)
    return finding.get_outcome_display()


def _monitor(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    finding = _finding(case)
    if finding is None or finding.outcome != Outcome.FOUND or not finding.actions.exists():
        raise ApplicationError(_("Only a finding of maladministration has actions to monitor."))
    return _noop(case, actor, now, data)


def _close(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    finding = _finding(case)
    if case.state == CaseState.FINAL and finding is not None and finding.outcome == Outcome.FOUND:
        raise ApplicationError(_("Monitor the corrective actions before closing."))
    if case.state == CaseState.MONITORING and (
        finding is None or finding.actions.exclude(status=ActionStatus.ACCEPTED).exists()
    ):
        raise ApplicationError(_("Every corrective action must be accepted before closing."))
    return _noop(case, actor, now, data)


def _action(case: Case, data: dict[str, Any]) -> CorrectiveAction:
    action = (
        CorrectiveAction.objects.select_for_update()
        .filter(finding__case=case, pk=_id(data.get("action_id")))
        .first()
    )
    if action is None:
        raise ApplicationError(_("This corrective action does not exist."), field="action_id")
    return action


def _report_action(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    action = _action(case, data)
    if action.status not in (ActionStatus.OPEN, ActionStatus.REJECTED):
        raise ApplicationError(_("This action is not awaiting a report."), code="state")
    done = bool(data.get("done"))
    text = _text(data.get("text"), "text", "", required=False)
    evidence: UploadedFile | None = data.get("evidence")
    if not text and evidence is None and not done:
        raise ApplicationError(_("Write a progress note or attach evidence."), field="text")
    report = ActionReport(action=action, text=text, done=done, author=actor, created_at=now)
    if evidence is not None:
        try:
            check_attachment(evidence)
        except ApplicationError as exc:
            raise ApplicationError(exc.message, code=exc.code, field="evidence") from None
        report.evidence.save(evidence.name or "evidence", evidence, save=False)
    report.save()
    if done:
        action.status = ActionStatus.REPORTED_DONE
        action.reported_done_at = now
        action.save()
        _notify(AGENCY_ANSWERED, report, case)
    return text


def _accept_action(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    action = _action(case, data)
    if action.status != ActionStatus.REPORTED_DONE:
        raise ApplicationError(_("Only an action reported done can be accepted."), code="state")
    action.status = ActionStatus.ACCEPTED
    action.accepted_at = now
    action.on_time = (
        action.due_at is not None
        and action.reported_done_at is not None
        and action.reported_done_at <= action.due_at
    )
    action.save()
    return action.text


def _reject_action(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    action = _action(case, data)
    if action.status != ActionStatus.REPORTED_DONE:
        raise ApplicationError(_("Only an action reported done can be rejected."), code="state")
    reason = _text(data.get("text"), "text", _("Say why the action is not done."))
    action.status = ActionStatus.REJECTED
    action.save()
    report = action.reports.filter(done=True).order_by("-created_at", "-pk").first()
    if report is not None:
        _notify(ACTION_REJECTED, report, case)
    return reason


def _raise_recommendation(case: Case, actor: Any, now: dt.datetime, data: dict[str, Any]) -> str:
    action = _action(case, data)
    if action.status not in (ActionStatus.OPEN, ActionStatus.REJECTED) or (
        action.due_at is None or action.due_at > now
    ):
        raise ApplicationError(
            _("Only an action ignored past its deadline can be raised to a recommendation."),
            code="state",
        )
    if Recommendation.objects.filter(action=action).exists():
        raise ApplicationError(_("This action is already a recommendation."), code="state")
    text = _text(data.get("text"), "text", _("Write the recommendation."))
    days = _days(data.get("days"), DEFAULT_RECOMMENDATION_DAYS, "days")
    recommendation = Recommendation.objects.create(
        action=action,
        text=text,
        due_days=days,
        due_at=due_after(case.unit, now, days),
        issued_by=actor,
        issued_at=now,
    )
    _notify(RECOMMENDATION_ISSUED, recommendation, case)
    return text


def cases_close_incomplete(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Close the cases whose reporter did not complete the information in time (Perom
    58/2023: an incomplete report is closed after its 30 days). The platform's own step
    (`system`); each case is locked and re-checked, so a run twice closes nothing more."""
    now = now or timezone.now()
    closed = 0
    due = Case.objects.filter(state=CaseState.AWAITING_INFO, info_due_at__lt=now).order_by(
        "info_due_at", "pk"
    )
    for case in due[:limit]:
        try:
            case_transition(case, "close_incomplete", None, system=True, now=now)
        except ApplicationError:
            continue  # information arrived meanwhile: no longer awaiting
        closed += 1
    return closed


def actions_remind_due_soon(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Remind the unit and the agency admins of each corrective action still not reported
    done whose reminder time came and whose deadline has not passed: once (the row is
    marked under its lock, and the outbox row's idempotency key would refuse a second),
    also when two runs meet (SKIP LOCKED). Cost: the due reminders only (partial index)."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            CorrectiveAction.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("finding__case")
            .filter(
                status__in=(ActionStatus.OPEN, ActionStatus.REJECTED),
                reminded_at__isnull=True,
                remind_at__lte=now,
                due_at__gt=now,
            )
            .order_by("remind_at", "pk")[:limit]
        )
        for action in due:
            _notify(ACTION_DUE_SOON, action, action.finding.case)
            sent += 1
        CorrectiveAction.objects.filter(pk__in=[a.pk for a in due]).update(reminded_at=now)
    return sent


HANDLERS: dict[str, Handler] = {
    "verify": _noop,
    "fast_track": _fast_track,
    "request_info": _request_info,
    "info_received": _info_received,
    "close_incomplete": _close_incomplete,
    "accept": _noop,
    "stop": _stop,
    "request_explanation": _request_explanation,
    "answer_explanation": _answer_explanation,
    "issue_draft": _issue_draft,
    "respond_draft": _respond_draft,
    "reporter_respond": _reporter_respond,
    "finalise": _finalise,
    "monitor": _monitor,
    "close": _close,
    "report_action": _report_action,
    "accept_action": _accept_action,
    "reject_action": _reject_action,
    "raise_recommendation": _raise_recommendation,
}
assert set(HANDLERS) == set(flow.ACTIONS), "every action of the flow has one handler"
