"""The states of a complaint and the one table of allowed transitions.

SP4N-LAPOR!'s flow, as the citizen sees it: received -> verified -> forwarded to the unit
-> answered -> closed, and reopened (once) when the answer did not solve it. The handlers
may also ask the complainant for more (needs_info; the citizen's reply returns it to
received) or route it to the agency whose authority it is (it is received there anew).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    NEEDS_INFO = "needs_info", _("More information asked")
    VERIFIED = "verified", _("Verified")
    FORWARDED = "forwarded", _("Forwarded to the unit")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


class ComplaintAction(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    ASK_INFO = "ask_info", _("More information asked")
    ADD_INFO = "add_info", _("Information added by the complainant")
    VERIFY = "verify", _("Verified")
    ROUTE = "route", _("Not our authority: routed to another agency")
    FORWARD = "forward", _("Forwarded to the unit")
    ANSWER = "answer", _("Answered")
    CLOSE = "close", _("Closed")
    REOPEN = "reopen", _("Reopened by the complainant")
    MODERATE = "moderate", _("Text moderated for publication")
    ESCALATE = "escalate", _("Sent to the ombudsman")


S, A = ComplaintStatus, ComplaintAction

# (state, action) -> next state. Anything not listed is refused. Moderation and escalation
# change no state (see MODERATE_FROM, ESCALATE_FROM).
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.RECEIVED, A.ASK_INFO): S.NEEDS_INFO,
    (S.NEEDS_INFO, A.ADD_INFO): S.RECEIVED,
    (S.RECEIVED, A.VERIFY): S.VERIFIED,
    (S.NEEDS_INFO, A.VERIFY): S.VERIFIED,
    (S.RECEIVED, A.ROUTE): S.RECEIVED,  # received anew by the other agency
    (S.NEEDS_INFO, A.ROUTE): S.RECEIVED,
    (S.VERIFIED, A.FORWARD): S.FORWARDED,
    (S.FORWARDED, A.ANSWER): S.ANSWERED,
    (S.REOPENED, A.ANSWER): S.ANSWERED,
    (S.ANSWERED, A.CLOSE): S.CLOSED,
    (S.NEEDS_INFO, A.CLOSE): S.CLOSED,
    (S.ANSWERED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
}

MODERATE_FROM = frozenset(S) - {S.RECEIVED, S.NEEDS_INFO}
ESCALATE_FROM = frozenset(S)
OPEN_STATES = frozenset({S.RECEIVED, S.NEEDS_INFO, S.VERIFIED, S.FORWARDED, S.REOPENED})
# What the citizen sees on the status page, in order.
CITIZEN_STEPS = (S.RECEIVED, S.VERIFIED, S.FORWARDED, S.ANSWERED, S.CLOSED)


def next_state(state: str, action: str) -> str | None:
    """The state after `action`, or None if the table does not allow it."""
    return TRANSITIONS.get((state, action))


def allowed_actions(state: str) -> set[str]:
    return {action for (source, action) in TRANSITIONS if source == state}
