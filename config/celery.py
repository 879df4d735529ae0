"""The Celery application: configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

# Connects the signals that carry the request id into tasks and format worker logs as JSON.
import core.logs  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("maklumat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
