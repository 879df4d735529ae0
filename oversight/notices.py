"""How oversight's messages go out through the generic outbox (notifications).

Registered in OversightConfig.ready() (`register`): for each event oversight writes to
the outbox, how it is rendered and who hears of it.

- "breach_created" (the sweep, one fan-out row per new breach) and "breach_escalated"
  (the escalation ladder, one per level): the unit's contacts, then up the ladder (head
  of the unit, agency head and admins, the ombudsman reviewers); the staff who may answer
  in their in-app inbox; the agency's webhook endpoints. New breaches (level 0) follow
  people's preferences, by kind of breach (the kinds people choose from); escalations
  cannot be opted out of.
- "breach_answered" and "follow_confirm": to a citizen following a request
  (oversight/followers.py); their address is masked for staff.
- the daily digest of held new-breach emails.

Each message's subject is the breach (or the follower), stored in the row's columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import default_if_none, floatformat
from django.urls import reverse
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership, Role, Unit
from agencies.policy import ROLE_ACTIONS, Action, can
from notifications import registry
from notifications.channels import Moot, Unsubscribed
from notifications.models import Notification
from notifications.outbox.recipients import contacts_of
from notifications.registry import Compiled, Email, InboxEntry, MessageType
from notifications.rendering import absolute_url, render_email, reverse_one
from oversight.followers import CITIZEN_EVENT, FOLLOW_CONFIRM_EVENT
from oversight.models import (
    FOLLOWER_CONFIRM_MAX_AGE,
    Breach,
    BreachEvent,
    BreachKind,
    CitizenFollower,
)

BREACH_CREATED = "breach_created"
BREACH_ESCALATED = "breach_escalated"
# A reviewer at the desk asks the unit to explain a breach (oversight/desk.py); the row's
# subject event is the request (its text is the reviewer's question).
EXPLANATION_ASKED = "breach_explanation_asked"
ACK_SALT = "maklumat.breach-acknowledge"
ACK_LINK_MAX_AGE_SECONDS = 30 * 24 * 3600  # NOTIFICATIONS["ACK_LINK_MAX_AGE_SECONDS"] overrides
ANSWERING_ROLES = [
    role for role, actions in ROLE_ACTIONS.items() if Action.ANSWER_BREACH in actions
]
INBOX_TITLES = {
    0: _("New breach"),
    1: _("Escalated to the head of the unit"),
    2: _("Escalated to the agency head"),
    3: _("Escalated to the ombudsman"),
}


# --- The one-click acknowledge link ------------------------------------------------------


def ack_token(notification: Notification) -> str:
    """The signed token of an email's acknowledge link: the breach, the row it was sent
    for, and the address it was sent to."""
    return signing.dumps(
        {"b": notification.subject_id, "n": notification.pk, "e": notification.recipient},
        salt=ACK_SALT,
        compress=True,
    )


def ack_token_read(token: str, *, max_age_seconds: int) -> dict[str, Any]:
    """The token's payload; raises signing.BadSignature (or SignatureExpired, a subclass)."""
    data = signing.loads(token, salt=ACK_SALT, max_age=max_age_seconds)
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        raise signing.BadSignature("Malformed token")
    return data


def ack_link_max_age_seconds() -> int:
    notifications = getattr(settings, "NOTIFICATIONS", {})
    return int(notifications.get("ACK_LINK_MAX_AGE_SECONDS", ACK_LINK_MAX_AGE_SECONDS))


# --- Who hears of a breach ----------------------------------------------------------------


def _unit_of(row: Notification) -> Unit | None:
    return row.unit if row.unit_id else getattr(row.subject, "unit", None)


def breach_recipients(row: Notification) -> list[list[str]]:
    """The ladder: level 0, the unit's contacts (none listed: its head and the agency's
    address); level 1, the head of the unit, and the unit's contacts when there is no head
    on record or the head's address is disabled (nobody may opt out of an escalation);
    level 2, the agency head and admins; level 3, the ombudsman reviewers."""
    unit = _unit_of(row)
    if row.level >= 3:
        reviewers = Membership.objects.filter(role=Role.OMBUDSMAN, user__is_active=True)
        return [list(reviewers.exclude(user__email="").values_list("user__email", flat=True))]
    if unit is None:
        return []
    if row.level == 0:
        contacts = contacts_of(unit)
        return [contacts or [e for e in (unit.head_email, unit.agency.email) if e]]
    if row.level == 1:
        return [[unit.head_email] if unit.head_email else [], contacts_of(unit)]
    admins = Membership.objects.filter(
        agency_id=unit.agency_id, role=Role.AGENCY_ADMIN, user__is_active=True
    ).exclude(user__email="")
    return [[unit.agency.head_email, *admins.values_list("user__email", flat=True)]]


def breach_inapp_users(row: Notification) -> list[Any]:
    """Staff accounts whose in-app inbox gets the breach, resolved now.

    Level 0: every active member who may answer the breach (Action.ANSWER_BREACH on it:
    the unit's editors and approvers, unit-wide or agency-wide, and the agency admins).
    Levels 1-2: the agency admins, and the account (if any) of the unit head (level 1) or
    agency head (level 2). Level 3: the ombudsman reviewers.
    """
    from accounts.models import User

    unit = _unit_of(row)
    if unit is None:
        return []
    users = User.objects.filter(is_active=True)
    if row.level == 0:
        condition = Q(
            memberships__agency_id=unit.agency_id,
            memberships__role__in=ANSWERING_ROLES,
        ) & (Q(memberships__unit__isnull=True) | Q(memberships__unit_id=unit.pk))
    elif row.level in (1, 2):
        condition = Q(memberships__agency_id=unit.agency_id, memberships__role=Role.AGENCY_ADMIN)
        head = unit.head_email if row.level == 1 else unit.agency.head_email
        if head:
            condition |= Q(email__iexact=head.strip(), memberships__agency_id=unit.agency_id)
    else:
        condition = Q(memberships__role=Role.OMBUDSMAN)
    found = list(users.filter(condition).distinct().order_by("pk"))
    subject: Any = row.subject if row.subject is not None else unit
    return [u for u in found if row.level > 0 or can(u, Action.ANSWER_BREACH, subject)]


def breach_preference_kind(row: Notification) -> str | None:
    """New breaches (level 0) follow people's preferences, by kind of breach; escalations
    (levels 1+) always go out by email, one each: nobody can opt out of them."""
    breach = row.subject
    return breach.kind if row.level == 0 and isinstance(breach, Breach) else None


def breach_webhook_payload(row: Notification) -> dict[str, Any]:
    """The breach's facts, no personal data."""
    breach = row.subject
    if not isinstance(breach, Breach):
        return {"breach": None}
    return {
        "breach": {
            "id": breach.pk,
            "kind": breach.kind,
            "status": breach.status,
            "severity": breach.severity,
            "agency": breach.agency.slug,
            "unit": breach.unit.slug,
            "service": breach.service.slug if breach.service else None,
            "delivery_reference": breach.delivery.reference if breach.delivery else None,
            "measured_value": str(breach.measured_value)
            if breach.measured_value is not None
            else None,
            "promised_value": str(breach.promised_value)
            if breach.promised_value is not None
            else None,
            "value_unit": breach.value_unit,
            "occurred_at": breach.occurred_at.isoformat(),
            "detected_at": breach.detected_at.isoformat(),
            "url": absolute_url(reverse("breach_answers:detail", kwargs={"pk": breach.pk})),
        }
    }


def breach_inbox_entry(row: Notification) -> InboxEntry:
    breach = row.subject
    if not isinstance(breach, Breach):
        return InboxEntry(title=row.event)
    kind = breach.get_kind_display()
    detail = ""
    if breach.service is not None:
        reference = f" · {breach.delivery.reference}" if breach.delivery is not None else ""
        detail = f"{breach.service.name}{reference}"
    return InboxEntry(
        title=f"{INBOX_TITLES.get(row.level, INBOX_TITLES[1])}: {kind}",
        url=reverse("breach_answers:detail", kwargs={"pk": breach.pk}),
        detail=detail,
        label=str(kind),
        data=(("breach", str(breach.pk)),),
    )


# --- The emails ------------------------------------------------------------------------------


def _label(model: type[Any], field: str, value: Any) -> str:
    """What `get_<field>_display()` gives (in the active language), without its cost."""
    choices = _CHOICES.get((model, field))
    if choices is None:
        choices = _CHOICES[(model, field)] = dict(model._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


_CHOICES: dict[tuple[Any, str], dict[Any, Any]] = {}


def _any(value: Any) -> Any:
    return value


def _breach_compiled(notification: Notification, language: str) -> Compiled:
    """A new or escalated breach, to the unit (or up the ladder), compiled: the templates
    see only the shape (the level, which facts exist) and the values, pre-formatted
    exactly as the template filters would (in the active language)."""
    breach = notification.subject
    if not isinstance(breach, Breach):
        raise Moot("The breach is gone.")
    agency, service, delivery = breach.agency, breach.service, breach.delivery
    has_measured = breach.measured_value is not None
    values = {
        "kind": _label(Breach, "kind", breach.kind),
        "status": _label(Breach, "status", breach.status),
        "unit": breach.unit.name,
        "agency": agency.name if agency is not None else "",
        "service": service.name if service is not None else "",
        "reference": delivery.reference if delivery is not None else "",
        "measured": floatformat(breach.measured_value, "-2") if has_measured else "",
        "promised": floatformat(default_if_none(_any(breach.promised_value), "—"), "-2")
        if has_measured
        else "",
        "value_unit": breach.value_unit,
        "occurred": date_filter(template_localtime(breach.occurred_at), "j F Y H.i"),
        # reverse_one: the same URLs as `reverse`, without its cost for every message
        "ack_url": absolute_url(
            reverse_one("breach_answers:ack", "token", ack_token(notification))
        ),
        "detail_url": absolute_url(reverse_one("breach_answers:detail", "pk", breach.pk)),
    }
    shape = (
        notification.level,
        agency is not None,
        service is not None,
        delivery is not None,
        has_measured,
    )
    level, has_agency, has_service, has_delivery, _measured = shape

    def render(facts: Mapping[str, str]) -> Email:
        context: dict[str, Any] = {
            "facts": facts,
            "level": level,
            "has_agency": has_agency,
            "has_service": has_service,
            "has_delivery": has_delivery,
            "has_measured": has_measured,
            "language": language,
        }
        return render_email("oversight/email/breach", context)

    return Compiled(shape=shape, values=values, render=render)


def _breach_email(notification: Notification, language: str) -> Email:
    """A new or escalated breach, rendered in full (what the compiled form equals)."""
    compiled = _breach_compiled(notification, language)
    return compiled.render(compiled.values)


def _explanation_email(notification: Notification, language: str) -> Email:
    """The ombudsman asks the unit to explain a breach: the question and where to answer."""
    breach = notification.subject
    if not isinstance(breach, Breach):
        raise Moot("The breach is gone.")
    request = (
        BreachEvent.objects.filter(pk=notification.subject_event_id, breach=breach).first()
        if notification.subject_event_id is not None
        else None
    )
    context: dict[str, Any] = {
        "notification": notification,
        "breach": breach,
        "unit": breach.unit,
        "agency": breach.agency,
        "question": request.text if request is not None else "",
        "detail_url": absolute_url(reverse("breach_answers:detail", kwargs={"pk": breach.pk})),
        "language": language,
    }
    return render_email("oversight/email/explanation_asked", context)


def explanation_inbox_entry(row: Notification) -> InboxEntry:
    breach = row.subject
    if not isinstance(breach, Breach):
        return InboxEntry(title=row.event)
    kind = breach.get_kind_display()
    return InboxEntry(
        title=f"{_('The ombudsman asks for an explanation')}: {kind}",
        url=reverse("breach_answers:detail", kwargs={"pk": breach.pk}),
        detail=breach.service.name if breach.service is not None else "",
        label=str(kind),
        data=(("breach", str(breach.pk)),),
    )


def _digest_email(notification: Notification, items: list[Notification], language: str) -> Email:
    """The daily digest: every new breach of the unit held for this recipient."""
    context = {
        "notification": notification,
        "unit": notification.unit,
        "language": language,
        "entries": [
            {
                "breach": item.subject,
                "ack_url": absolute_url(
                    reverse("breach_answers:ack", kwargs={"token": ack_token(item)})
                ),
                "detail_url": absolute_url(
                    reverse("breach_answers:detail", kwargs={"pk": item.subject_id})
                ),
            }
            for item in items
            if isinstance(item.subject, Breach)
        ],
    }
    return render_email("oversight/email/digest", context)


def _answer_email(notification: Notification, language: str) -> Email:
    """To a citizen following the request: the unit's answer (the subject's event), the
    public tracking page and a one-click unsubscribe link; nothing from the staff area."""
    breach = notification.subject
    delivery_id = breach.delivery_id if isinstance(breach, Breach) else None
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(
            delivery_id=delivery_id,
            email__iexact=notification.recipient,
            confirmed_at__isnull=False,
        )
        .first()
        if delivery_id is not None
        else None
    )
    if breach is None or follower is None:
        raise Unsubscribed("The citizen no longer follows this request.")
    event = (
        BreachEvent.objects.filter(pk=notification.subject_event_id, breach=breach).first()
        if notification.subject_event_id is not None
        else None
    )
    delivery = follower.delivery
    unsubscribe_url = absolute_url(
        reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
    )
    context = {
        "notification": notification,
        "breach": breach,
        "event": event,
        "delivery": delivery,
        "service": delivery.service,
        "unit": delivery.unit,
        "language": language,
        "track_url": absolute_url(reverse("track:detail", kwargs={"code": delivery.tracking_code})),
        "unsubscribe_url": unsubscribe_url,
    }
    email = render_email("oversight/email/breach_answered", context)
    return dataclasses.replace(email, headers={"List-Unsubscribe": f"<{unsubscribe_url}>"})


def _follow_confirm_email(notification: Notification, language: str) -> Email:
    """To an address left on a tracking page (the follower is the subject): the signed
    link that confirms it. Names the service and the office, never the tracking code, the
    tracking page nor anything from the staff area (the address is not verified yet: it
    may not be the citizen's)."""
    follower = (
        CitizenFollower.objects.select_related("delivery__service", "delivery__unit")
        .filter(pk=notification.subject_id, email__iexact=notification.recipient)
        .first()
        if notification.subject_id is not None
        else None
    )
    if follower is None:
        raise Moot("The address to confirm is gone.")
    if follower.confirmed_at is not None:
        raise Moot("The address is already confirmed.")
    delivery = follower.delivery
    context = {
        "notification": notification,
        "service": delivery.service,
        "unit": delivery.unit,
        "submitted_at": delivery.submitted_at,
        "days": FOLLOWER_CONFIRM_MAX_AGE.days,
        "language": language,
        "confirm_url": absolute_url(
            reverse("track:confirm", kwargs={"token": follower.signed_confirmation_token()})
        ),
        # For whoever did not ask: forget the address now, not only after the purge.
        "forget_url": absolute_url(
            reverse("track:unsubscribe", kwargs={"token": follower.signed_unsubscribe_token()})
        ),
    }
    return render_email("oversight/email/follow_confirm", context)


def _breach_subjects() -> Any:
    return Breach.objects.select_related("agency", "unit", "service", "delivery")


def _breach_sending_subjects() -> Any:
    """The breaches of a drainer's batch: their agencies, units and services (shared by
    many breaches) loaded once each, one query per model per batch; of each delivery only
    the reference that messages and webhooks show (anything else a template reads is
    loaded when read)."""
    breach_columns = [f.name for f in Breach._meta.concrete_fields]
    return (
        Breach.objects.select_related("delivery")
        .only(*breach_columns, "delivery__reference")
        .prefetch_related("agency", "unit", "service")
    )


def register() -> None:
    """Tell the outbox how oversight's messages go out (OversightConfig.ready)."""
    registry.register_kinds(BreachKind.choices)
    registry.register_subjects(Breach, _breach_subjects, sending=_breach_sending_subjects)
    labels = {BREACH_CREATED: _("New breach"), BREACH_ESCALATED: _("Breach escalated")}
    for event in (BREACH_CREATED, BREACH_ESCALATED):
        registry.register(
            MessageType(
                event=event,
                label=labels[event],
                render_email=_breach_email,
                recipients=breach_recipients,
                inapp_users=breach_inapp_users,
                webhook_payload=breach_webhook_payload,
                preference_kind=breach_preference_kind,
                inbox_entry=breach_inbox_entry,
                compile_email=_breach_compiled,
            )
        )
    # Level 0: the unit's contacts by email and the staff who may answer in their inbox;
    # nobody opts out of the ombudsman's question.
    registry.register(
        MessageType(
            event=EXPLANATION_ASKED,
            label=_("Explanation requested by the ombudsman"),
            render_email=_explanation_email,
            recipients=breach_recipients,
            inapp_users=breach_inapp_users,
            webhook_payload=breach_webhook_payload,
            inbox_entry=explanation_inbox_entry,
        )
    )
    registry.register(
        MessageType(event=CITIZEN_EVENT, render_email=_answer_email, personal_recipient=True)
    )
    registry.register(
        MessageType(
            event=FOLLOW_CONFIRM_EVENT, render_email=_follow_confirm_email, personal_recipient=True
        )
    )
    registry.register_digest(_digest_email)
