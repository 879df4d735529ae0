from __future__ import annotations

import datetime as dt

from django.utils import timezone

STALE_AFTER = dt.timedelta(minutes=5)


def check_sweeper() -> str | None:
    """Degraded when no sweep succeeded in the last five minutes."""
    from oversight.models import SweepRun

    last = (
        SweepRun.objects.filter(succeeded=True)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last is None:
        return "no successful sweep yet"
    if timezone.now() - last > STALE_AFTER:
        return f"last successful sweep at {last.isoformat()}"
    return None
