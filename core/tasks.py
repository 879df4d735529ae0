from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="core.ping")
def ping_task(value: str) -> str:
    """Echo a value back: proves a task travelled broker -> worker -> result."""
    logger.info("ping %s", value)
    return f"pong:{value}"
