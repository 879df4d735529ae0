"""Domain signals other apps may listen to (lower apps never import upper ones)."""

from django.dispatch import Signal

# Sent after a standard version is published (inside the transaction): `version`.
standard_published = Signal()
