"""The ombudsman's review desk: what puts a breach on it, and what reviewers do there.

A breach is on the desk from `Breach.on_desk_at` on: set when the escalation ladder
raises it to the top (oversight/escalation.py), when its unit disputes it
(oversight/answers.py), or when a reviewer pulls it in (`breach_pull_in`). Reviewers
assign breaches (to themselves or to a colleague who is a reviewer too), ask the unit for
an explanation (through the outbox, like every message to a unit) and close what is not
the ombudsman's to decide, one breach or many at once. Every action locks the breaches'
rows and writes a `BreachEvent` (who, what, when) in the same transaction; a bulk action
is all or nothing.

Who: reviewers only, i.e. users who may decide breaches everywhere
(`agencies.policy`: the ombudsman role, or a superuser). Agency staff never reach the desk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Role
from agencies.policy import Action, grant_for
from core.errors import ApplicationError, PermissionDeniedError
from notifications.keys import idempotency_key
from notifications.models import Notification
from notifications.outbox.insert import insert_notifications
from oversight.answers import CLOSED
from oversight.models import (
    Breach,
    BreachEvent,
    BreachEventKind,
    BreachStatus,
    SavedQueueFilter,
)
from oversight.notices import EXPLANATION_ASKED

# A bulk action takes at most a page's worth of breaches, and a saved view at most this many.
BULK_MAX = 100
SAVED_FILTERS_MAX = 50
SAVED_QUERY_MAX_LENGTH = 1000
# Query-string parameters that are not filters: never part of a saved view.
NOT_FILTERS = {"after", "csrfmiddlewaretoken", "page"}


def is_reviewer(user: Any) -> bool:
    """May this user work the desk? Deciding breaches everywhere is what a reviewer does."""
    return grant_for(user, Action.DECIDE_BREACH).everywhere


def reviewers() -> QuerySet[Any]:
    """The ombudsman's reviewers a breach can be assigned to (active accounts)."""
    from accounts.models import User

    return (
        User.objects.filter(is_active=True, memberships__role=Role.OMBUDSMAN)
        .distinct()
        .order_by("username")
    )


def _check_reviewer(user: Any) -> None:
    if not is_reviewer(user):
        raise PermissionDeniedError()


def _event(
    breach: Breach, kind: str, *, actor: Any, now: dt.datetime, text: str = ""
) -> BreachEvent:
    return BreachEvent.objects.create(
        breach=breach, kind=kind, actor=actor, via="staff", text=text, created_at=now
    )


def breach_pull_in(
    *, breach: Breach, acting_user: Any, text: str = "", now: dt.datetime | None = None
) -> Breach:
    """A reviewer puts a breach that neither escalated nor was disputed on the desk."""
    now = now or timezone.now()
    _check_reviewer(acting_user)
    with transaction.atomic():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        if locked.status in CLOSED:
            raise ApplicationError(_("This breach is closed."), code="closed")
        if locked.on_desk_at is not None:
            raise ApplicationError(_("This breach is already on the review desk."), code="state")
        locked.enter_desk(now)
        _event(locked, BreachEventKind.PULLED_IN, actor=acting_user, now=now, text=text.strip())
    return locked


def _locked_on_desk(breach_ids: Sequence[int]) -> list[Breach]:
    """The breaches, locked in a fixed order (two bulk actions never deadlock); all of them
    must be on the desk."""
    ids = sorted(set(breach_ids))
    if not ids:
        raise ApplicationError(_("Select at least one breach."), code="required", field="breach")
    if len(ids) > BULK_MAX:
        raise ApplicationError(
            _("Select at most %(max)d breaches at once.") % {"max": BULK_MAX},
            code="too_many",
            field="breach",
        )
    locked = list(
        Breach.objects.select_for_update()
        .filter(pk__in=ids, on_desk_at__isnull=False)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise ApplicationError(
            _("Some of the selected breaches are not on the review desk."),
            code="not_on_desk",
            field="breach",
        )
    return locked


def _require_open(breaches: list[Breach]) -> None:
    closed = [b.pk for b in breaches if b.status in CLOSED]
    if closed:
        raise ApplicationError(
            _("These breaches are closed: %(ids)s.")
            % {"ids": ", ".join(f"#{pk}" for pk in closed)},
            code="closed",
            field="breach",
        )


def breaches_assign(
    *,
    breach_ids: Sequence[int],
    acting_user: Any,
    assignee: Any,
    now: dt.datetime | None = None,
) -> int:
    """Assign breaches to a reviewer (the acting one or a colleague). Returns how many
    changed hands (assigning a breach to whoever holds it already records nothing)."""
    now = now or timezone.now()
    _check_reviewer(acting_user)
    if assignee is None or not reviewers().filter(pk=assignee.pk).exists():
        raise ApplicationError(
            _("Breaches can only be assigned to an ombudsman reviewer."),
            code="invalid",
            field="assignee",
        )
    changed = 0
    with transaction.atomic():
        for breach in _locked_on_desk(breach_ids):
            if breach.assignee_id == assignee.pk:
                continue
            breach.assignee = assignee
            breach.save(update_fields=["assignee"])
            _event(
                breach, BreachEventKind.ASSIGNED, actor=acting_user, now=now, text=assignee.username
            )
            changed += 1
    return changed


def explanation_key(breach: Breach, event: BreachEvent) -> str:
    return idempotency_key(
        event=EXPLANATION_ASKED,
        subject=f"breach{breach.pk}-event{event.pk}",
        recipient=f"unit:{breach.unit_id}",
        channel="email",
        level=0,
    )


def breaches_request_explanation(
    *, breach_ids: Sequence[int], acting_user: Any, text: str, now: dt.datetime | None = None
) -> int:
    """Ask each breach's unit to explain it: the question is recorded on the breach and
    reaches the unit's contacts and answering staff through the outbox (one fan-out row
    per breach, written in the same transaction)."""
    now = now or timezone.now()
    _check_reviewer(acting_user)
    text = text.strip()
    if not text:
        raise ApplicationError(
            _("Write what the unit should explain."), code="required", field="text"
        )
    breach_type = ContentType.objects.get_for_model(Breach)
    with transaction.atomic():
        breaches = _locked_on_desk(breach_ids)
        _require_open(breaches)
        rows = []
        for breach in breaches:
            event = _event(
                breach, BreachEventKind.EXPLANATION_ASKED, actor=acting_user, now=now, text=text
            )
            rows.append(
                Notification(
                    event=EXPLANATION_ASKED,
                    subject_type=breach_type,
                    subject_id=breach.pk,
                    subject_event_id=event.pk,
                    unit_id=breach.unit_id,
                    channel="email",
                    level=0,
                    idempotency_key=explanation_key(breach, event),
                )
            )
        insert_notifications(rows)
    return len(rows)


def breaches_close_out_of_authority(
    *, breach_ids: Sequence[int], acting_user: Any, reason: str, now: dt.datetime | None = None
) -> int:
    """Close breaches that are not the ombudsman's to decide, with the reason."""
    now = now or timezone.now()
    _check_reviewer(acting_user)
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            _("Give the reason why this is outside the ombudsman's authority."),
            code="required",
            field="text",
        )
    with transaction.atomic():
        breaches = _locked_on_desk(breach_ids)
        _require_open(breaches)
        for breach in breaches:
            breach.status = BreachStatus.OUT_OF_AUTHORITY
            breach.resolved_at = now
            breach.save(update_fields=["status", "resolved_at"])
            _event(
                breach, BreachEventKind.OUT_OF_AUTHORITY, actor=acting_user, now=now, text=reason
            )
    return len(breaches)


# --- Saved views of the desk -------------------------------------------------------------


def filters_query(query: str) -> str:
    """A query string reduced to its filters (no page cursor, no token), re-encoded."""
    data = QueryDict(query.lstrip("?"), mutable=True)
    for name in NOT_FILTERS:
        data.pop(name, None)
    return data.urlencode()


def saved_filter_save(*, owner: Any, name: str, query: str) -> SavedQueueFilter:
    """Save (or overwrite, by name) one of the reviewer's own views of the desk."""
    _check_reviewer(owner)
    name = name.strip()
    if not name:
        raise ApplicationError(_("Name the view."), code="required", field="name")
    query = filters_query(query)
    if len(query) > SAVED_QUERY_MAX_LENGTH:
        raise ApplicationError(_("These filters are too long to save."), code="too_long")
    with transaction.atomic():
        existing = (
            SavedQueueFilter.objects.select_for_update().filter(owner=owner, name=name).first()
        )
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing
        if SavedQueueFilter.objects.filter(owner=owner).count() >= SAVED_FILTERS_MAX:
            raise ApplicationError(
                _("You have %(max)d saved views: delete one first.") % {"max": SAVED_FILTERS_MAX},
                code="too_many",
                field="name",
            )
        return SavedQueueFilter.objects.create(owner=owner, name=name, query=query)


def saved_filter_delete(*, owner: Any, pk: int) -> bool:
    """Delete one of the reviewer's own saved views (another's is never found)."""
    deleted, _rows = SavedQueueFilter.objects.filter(owner=owner, pk=pk).delete()
    return deleted > 0


def saved_filters_of(owner: Any) -> QuerySet[SavedQueueFilter]:
    return SavedQueueFilter.objects.filter(owner=owner)
