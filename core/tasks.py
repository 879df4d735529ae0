from __future__ import annotations

from celery import shared_task


@shared_task(name="core.ping")
def ping_task(value: str) -> str:
    """Echo a value back: proves a task travelled broker -> worker -> result."""
    return f"pong:{value}"
