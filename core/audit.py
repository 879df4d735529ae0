"""Who did it, for audit trails: a person (a User) or a machine (an agency API key).

Services take `acting_user`, which is a User for people and a machine actor (it has
`is_machine` and `audit_label`) for API keys. Foreign keys to users and
django-simple-history's `history_user` only ever hold people; a machine is recorded by
its label as the history's change reason.
"""

from __future__ import annotations

from typing import Any


def is_machine(actor: Any) -> bool:
    return bool(getattr(actor, "is_machine", False))


def person(actor: Any) -> Any | None:
    """The User behind an actor, or None for a machine (or nobody)."""
    return None if actor is None or is_machine(actor) else actor


def change_reason(actor: Any) -> str | None:
    return str(actor.audit_label) if is_machine(actor) else None


def mark_history(obj: Any, actor: Any) -> None:
    """Tell django-simple-history who makes the next saved change of `obj`."""
    obj._history_user = person(actor)
    reason = change_reason(actor)
    if reason is not None:
        obj._change_reason = reason
