from __future__ import annotations

from celery import shared_task
from django.db import transaction

from feedback.invitations import survey_invitations_queue
from notifications.tasks import kick_drain


@shared_task(name="feedback.survey_invitations", acks_late=True)
def survey_invitations_task() -> int:
    """The beat-scheduled (every 15 minutes) completion emails with the survey's link.
    Idempotent: each request is announced once per follower (the outbox key)."""
    with transaction.atomic():
        queued = survey_invitations_queue()
        transaction.on_commit(kick_drain)
    return queued
