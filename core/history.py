"""django-simple-history, told that a machine (an API key) is not a user.

DRF puts the authenticated actor on the request; for an API key that is not a User, so
the history records no user and names the key as the change reason (core.audit).
"""

from __future__ import annotations

from typing import Any

from simple_history import models as simple_history_models

from core.audit import person


def history_user(request: Any = None, **kwargs: Any) -> Any | None:
    return person(getattr(request, "user", None))


class HistoricalRecords(simple_history_models.HistoricalRecords):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("get_user", history_user)
        super().__init__(*args, **kwargs)
