"""Signal receivers: other apps announce, deliveries follow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from core.signals import calendar_changed
from delivery.services import deliveries_recompute_due


@receiver(calendar_changed)
def move_due_dates(sender: Any, calendar_ids: list[int], since: dt.date, **kwargs: Any) -> None:
    deliveries_recompute_due(calendar_ids=calendar_ids, since=since)
