"""Domain signals other apps may listen to (lower apps never import upper ones)."""

from django.dispatch import Signal

# Sent after a standard version is published (inside the transaction): `version`.
standard_published = Signal()

# Sent when days of work calendars changed working status (inside the transaction):
# `calendar_ids` (the calendar and its descendants) and `since` (the earliest changed date).
calendar_changed = Signal()
