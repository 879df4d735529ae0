"""Operations tests: metrics, logs, queues, faults, backups."""

from __future__ import annotations

from tests.notifications.conftest import service, smtp

__all__ = ["service", "smtp"]
