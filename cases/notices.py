"""How the cases' messages go out through the generic outbox (notifications).

What the agency must act on (an explanation requested, draft findings to respond to, a
corrective action due, an action rejected, a recommendation issued) reaches the unit's
contacts and the agency's admins by email, and the staff who may answer in their in-app
inbox; the reviewers hear when the agency answers. Each row's subject is the object the
message is about (a request, a finding, an action, a report, a recommendation), so every
message has its own idempotency key. Nobody opts out of the ombudsman's messages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, Role, Unit
from notifications import registry
from notifications.channels import Moot
from notifications.models import Notification
from notifications.outbox.recipients import contacts_of
from notifications.registry import Email, InboxEntry, MessageType
from notifications.rendering import absolute_url, render_email

EXPLANATION_REQUESTED = "case_explanation_requested"
DRAFT_FINDINGS = "case_draft_findings"
ACTION_DUE = "case_action_due"
ACTION_REJECTED = "case_action_rejected"
RECOMMENDATION_ISSUED = "case_recommendation_issued"
AGENCY_ANSWERED = "case_agency_answered"
REPORTER_RESPONDED = "case_reporter_responded"
ACTION_DUE_SOON = "case_action_due_soon"

TITLES = {
    EXPLANATION_REQUESTED: _("The ombudsman asks your unit for an explanation"),
    DRAFT_FINDINGS: _("The ombudsman's draft findings: you may respond"),
    ACTION_DUE: _("A corrective action is due"),
    ACTION_REJECTED: _("A corrective action was not accepted"),
    RECOMMENDATION_ISSUED: _("The ombudsman issued a recommendation"),
    AGENCY_ANSWERED: _("The agency answered"),
    REPORTER_RESPONDED: _("The complainant responded to the draft findings"),
    ACTION_DUE_SOON: _("A corrective action is due soon"),
}
TO_AGENCY = (
    EXPLANATION_REQUESTED,
    DRAFT_FINDINGS,
    ACTION_DUE,
    ACTION_REJECTED,
    RECOMMENDATION_ISSUED,
    ACTION_DUE_SOON,
)


def case_of(subject: Any) -> Any:
    """The case a message's subject belongs to."""
    from cases.models import ActionReport, CorrectiveAction, Finding, Recommendation

    if isinstance(subject, ActionReport):
        return subject.action.finding.case
    if isinstance(subject, Recommendation):
        return subject.action.finding.case
    if isinstance(subject, CorrectiveAction | Finding):
        return subject.case if isinstance(subject, Finding) else subject.finding.case
    return getattr(subject, "case", None)


def _unit(row: Notification) -> Unit | None:
    return row.unit


def agency_recipients(row: Notification) -> list[list[str]]:
    """The unit's contacts (none listed: its head and the agency's address) and the
    agency's admins."""
    unit = _unit(row)
    if unit is None:
        return []
    admins = Membership.objects.filter(
        agency_id=unit.agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
    ).exclude(user__email="")
    contacts = contacts_of(unit) or [e for e in (unit.head_email, unit.agency.email) if e]
    found = [*contacts, *admins.values_list("user__email", flat=True)]
    return [list(dict.fromkeys(found))]


def agency_inapp_users(row: Notification) -> list[Any]:
    """The unit's answering staff (editors and approvers, unit-wide or agency-wide) and the
    agency's admins."""
    from accounts.models import User

    unit = _unit(row)
    if unit is None:
        return []
    condition = Q(
        memberships__agency_id=unit.agency_id,
        memberships__role__in=[Role.EDITOR, Role.APPROVER],
    ) & (Q(memberships__unit__isnull=True) | Q(memberships__unit_id=unit.pk)) | Q(
        memberships__agency_id=unit.agency_id, memberships__role=Role.AGENCY_ADMIN
    )
    return list(User.objects.filter(is_active=True).filter(condition).distinct().order_by("pk"))


def reviewer_recipients(row: Notification) -> list[list[str]]:
    reviewers = Membership.objects.filter(role=Role.OMBUDSMAN, user__is_active=True)
    return [list(reviewers.exclude(user__email="").values_list("user__email", flat=True))]


def reviewer_inapp_users(row: Notification) -> list[Any]:
    from accounts.models import User

    return list(
        User.objects.filter(is_active=True, memberships__role=Role.OMBUDSMAN)
        .distinct()
        .order_by("pk")
    )


def _case_url(case: Any) -> str:
    return reverse("cases:detail", kwargs={"pk": case.pk})


def _render(notification: Notification, language: str) -> Email:
    subject = notification.subject
    case = case_of(subject) if subject is not None else None
    if case is None:
        raise Moot("The case is gone.")
    context = {
        "notification": notification,
        "title": TITLES.get(notification.event, ""),
        "event": notification.event,
        "subject": subject,
        "case": case,
        "unit": case.unit,
        "agency": case.agency,
        "detail_url": absolute_url(_case_url(case)),
        "language": language,
    }
    return render_email("cases/email/notice", context)


def _inbox_entry(row: Notification) -> InboxEntry:
    subject = row.subject
    case = case_of(subject) if subject is not None else None
    if case is None:
        return InboxEntry(title=row.event)
    return InboxEntry(
        title=f"{TITLES.get(row.event, row.event)}: {case.reference}",
        url=_case_url(case),
        detail=case.title,
        label=str(TITLES.get(row.event, row.event)),
        data=(("case", str(case.pk)),),
    )


def _loader(model: type[Model], *related: str) -> Any:
    return lambda: model._default_manager.select_related(*related)


# What each message is, in a few words: the inbox's group headings.
LABELS = {
    EXPLANATION_REQUESTED: _("Explanation requested in an ombudsman case"),
    DRAFT_FINDINGS: _("Draft findings to respond to"),
    ACTION_DUE: _("Corrective action to carry out"),
    ACTION_REJECTED: _("Corrective action report rejected"),
    RECOMMENDATION_ISSUED: _("Ombudsman recommendation issued"),
    AGENCY_ANSWERED: _("The agency answered in a case"),
    REPORTER_RESPONDED: _("The complainant responded in a case"),
    ACTION_DUE_SOON: _("Corrective action due soon"),
}


def register() -> None:
    """Tell the outbox how the cases' messages go out (CasesConfig.ready)."""
    from cases.models import (
        ActionReport,
        CorrectiveAction,
        ExplanationRequest,
        Finding,
        Recommendation,
    )

    case = ("case__unit__agency", "case__agency")
    registry.register_subjects(ExplanationRequest, _loader(ExplanationRequest, *case))
    registry.register_subjects(Finding, _loader(Finding, *case))
    action_case = ("finding__case__unit__agency", "finding__case__agency")
    registry.register_subjects(CorrectiveAction, _loader(CorrectiveAction, *action_case))
    registry.register_subjects(
        ActionReport, _loader(ActionReport, *[f"action__{p}" for p in action_case])
    )
    registry.register_subjects(
        Recommendation, _loader(Recommendation, *[f"action__{p}" for p in action_case])
    )
    for event in TO_AGENCY:
        registry.register(
            MessageType(
                event=event,
                label=LABELS[event],
                render_email=_render,
                recipients=agency_recipients,
                inapp_users=agency_inapp_users,
                inbox_entry=_inbox_entry,
            )
        )
    for event in (AGENCY_ANSWERED, REPORTER_RESPONDED):
        registry.register(
            MessageType(
                event=event,
                label=LABELS[event],
                render_email=_render,
                recipients=reviewer_recipients,
                inapp_users=reviewer_inapp_users,
                inbox_entry=_inbox_entry,
            )
        )
