"""Reads for staff accounts."""

from __future__ import annotations

from accounts.models import User


def user_get_by_login(*, identifier: str) -> User | None:
    """The account a login form's "username or email" names (case-insensitive), or None.

    Inactive accounts are returned too: whether one may log in is the caller's question.
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    field = "email__iexact" if "@" in identifier else "username__iexact"
    return User.objects.filter(**{field: identifier}).first()
