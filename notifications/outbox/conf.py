"""The outbox's own settings (`NOTIFICATIONS = {...}` in Django settings overrides the
defaults) and the names of its channels."""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, int] = {
    "RETRY_LIMIT_SECONDS": 24 * 3600,
    "BACKOFF_BASE_SECONDS": 60,
    "BACKOFF_MAX_SECONDS": 4 * 3600,
    "STALE_SENDING_SECONDS": 15 * 60,
    "PENDING_KICK_SECONDS": 120,
    "BATCH_SIZE": 100,  # fan-out rows expanded per transaction
    # Recipient rows the drainer claims at once: its fixed cost per claim (the claim, the
    # loading of rows and subjects, a few queries each) is shared by that many messages.
    # A drainer that dies leaves at most this many rows `sending` until `requeue_stale`
    # takes them back (delayed, never lost; the one message in flight may go twice).
    "CLAIM_SIZE": 500,
    "WEBHOOK_DISABLE_AFTER": 5,
    "EMAIL_DISABLE_AFTER": 5,
    # A unit that receives more than this many notices of one event at once (within the
    # window below, e.g. one sweep) gets them in its daily digest rather than one email
    # each, unless the person chose one email each (0: never).
    "DIGEST_BURST_AT": 10,
    "DIGEST_BURST_WINDOW_SECONDS": 15 * 60,
}

EMAIL = "email"
INAPP = "inapp"
WEBHOOK = "webhook"
DIGEST = "digest"  # recipient rows held for the unit's daily digest, never sent alone


def conf(name: str) -> int:
    return int(getattr(settings, "NOTIFICATIONS", {}).get(name, DEFAULTS[name]))
