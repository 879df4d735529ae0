"""The outbox: fan-out, claim, send, record, retry, re-queue, resend; the inbox and the digest.

One module per step: `recipients` and `fanout` (who hears, at send time; preferences,
in-app and webhook rows), `drain` (claim, send, record, retry, re-queue, resend),
`email_health` (refused addresses), `webhooks` (endpoint health), `inbox`, `digest`;
`subjects` reads a row's subject columns; `conf` holds the settings.

Guarantees and their limits
---------------------------
- **Written with the event.** The event's transaction writes a *fan-out* row (recipient
  ""); if it rolls back, nothing is sent.
- **Recipients at send time.** `expand_fanouts` resolves the fan-out row to one row per
  recipient, by the rules its app registered (e.g. oversight's ladder: unit contacts,
  head of unit, agency head and admins, ombudsman reviewers, by level), with
  `insert_notifications` (outbox/insert.py: skipping a taken idempotency key (event,
  subject, recipient, channel, level: notifications.keys), in whichever month it lives;
  the one home of that insert): expanding twice writes nothing new.
- **Claimed once.** `drain` claims due pending rows with `SELECT ... FOR UPDATE SKIP
  LOCKED` and flips them to `sending` in a short transaction, then sends outside any
  transaction. Two drainers never claim the same row: the second skips the locked rows,
  and once committed they are no longer pending.
- **Every attempt recorded** (`NotificationAttempt`). Transient failures (connection
  refused/dropped, timeouts, SMTP 4xx) go back to pending with exponential backoff
  (`BACKOFF_BASE_SECONDS * 2**(attempts-1)`, capped at `BACKOFF_MAX_SECONDS`) until
  `RETRY_LIMIT_SECONDS` (default 24 h) after the row was queued; then `failed`.
  Permanent failures (recipient or sender refused, SMTP 5xx) fail at once. Failed rows are
  listed for staff with a resend action (`notification_resend`).
- **The one window.** A worker that dies after the SMTP server accepted a message and
  before `sent` is committed leaves the row in `sending`. `requeue_stale` puts rows
  that stayed `sending` longer than `STALE_SENDING_SECONDS` back to pending (logging an
  "outcome unknown" attempt), so nothing is lost; at worst that one message is sent
  twice. The window is one SMTP DATA exchange plus one UPDATE, and every copy carries the
  same `Message-ID` (derived from the idempotency key) so a receiving system can drop the
  duplicate. A sent email's record travels while the next message is composed and
  transmitted, but is committed before the server is asked to accept that next message
  (`inflight`): the window stays one message.
- **Fast path.** Templates of bulk messages compiled once per kind, language and shape,
  the MIME parts encoded once per body (notifications/compose.py; equal to
  `channels.email_for`, the per-message reference), each message composed while the
  server takes the one before, the bytes sent on one SMTP connection kept for the whole
  drain. Rows are claimed `CLAIM_SIZE` at a time and loaded with their subjects as their
  app registered for sending (registry.register_subjects): what many rows share (agency,
  unit, account) once per claim.
- **Refused addresses.** An email address the SMTP server refuses permanently (5xx to
  RCPT TO) `EMAIL_DISABLE_AFTER` times in a row is disabled (`EmailAddressHealth`): new
  fan-outs skip it and the admins of every agency whose units list it get one notice
  (see `email_health_record_refusal`). A message accepted for it resets the count, inside
  the one-statement SENT record.
- **Broker down.** Draining polls the database (beat, every minute), so a row written
  while the broker was unreachable is sent on the next drain; `requeue_stale` also kicks
  a drain when due rows have been waiting longer than `PENDING_KICK_SECONDS`.

Settings: `NOTIFICATIONS = {...}` in Django settings overrides the defaults (outbox/conf.py).
"""

from notifications.keys import digest_key, idempotency_key
from notifications.outbox.conf import DEFAULTS, DIGEST, EMAIL, INAPP, WEBHOOK, conf
from notifications.outbox.digest import digest_collect
from notifications.outbox.drain import (
    DrainResult,
    backoff,
    claim,
    drain,
    notification_resend,
    record_outcome,
    requeue_stale,
)
from notifications.outbox.email_health import email_health_record_refusal, units_listing_address
from notifications.outbox.fanout import expand_fanouts
from notifications.outbox.inbox import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_mark_group_read,
)
from notifications.outbox.recipients import (
    inapp_users_for,
    reachable_recipients_for,
    recipients_for,
)
from notifications.outbox.webhooks import webhook_record

__all__ = [
    "DEFAULTS",
    "DIGEST",
    "EMAIL",
    "INAPP",
    "WEBHOOK",
    "DrainResult",
    "backoff",
    "claim",
    "conf",
    "digest_collect",
    "digest_key",
    "drain",
    "email_health_record_refusal",
    "expand_fanouts",
    "idempotency_key",
    "inapp_users_for",
    "notification_mark_read",
    "notification_resend",
    "notifications_mark_all_read",
    "notifications_mark_group_read",
    "reachable_recipients_for",
    "recipients_for",
    "record_outcome",
    "requeue_stale",
    "units_listing_address",
    "webhook_record",
]
