"""The one home of the idempotency key: the Python function and its SQL twin agree."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.keys import KEY_MAX_LENGTH, idempotency_key, idempotency_key_sql, sql_text
from notifications.models import Notification
from oversight.sweep import _write_notifications, outbox_key
from tests.notifications.conftest import late_breach

# Printable ASCII: what keys are made of (ids, event names, addresses).
TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120)


def _sql_key(event: str, subject: str, recipient: str, channel: str, level: int) -> str:
    expression = idempotency_key_sql(
        event=sql_text(event),
        subject=sql_text(subject),
        recipient=sql_text(recipient),
        channel=sql_text(channel),
        level=str(level),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}")
        return str(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("event", "subject", "recipient", "channel", "level"),
    [
        ("breach_created", "5", "unit:7", "email", 0),
        ("breach_escalated", "breach5", "Kepala@Unit-A.go.id", "email", 2),
        ("breach_answered", "breach:5:event:9", "o'brien@example.org", "email", 0),
        # Too long for the column: the recipient is hashed, the rest kept, then cut at 200.
        ("breach_created", "breach5", "x" * 300 + "@EXAMPLE.org", "email", 0),
        ("e" * 150, "s" * 60, "r" * 60, "email", 1),
    ],
)
def test_the_sql_key_is_the_python_key(db, event, subject, recipient, channel, level):
    key = idempotency_key(
        event=event, subject=subject, recipient=recipient, channel=channel, level=level
    )
    assert len(key) <= KEY_MAX_LENGTH
    assert _sql_key(event, subject, recipient, channel, level) == key


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    event=TEXT, subject=TEXT, recipient=TEXT, channel=TEXT, level=st.integers(0, 9)
)  # fmt: skip
def test_the_sql_key_is_the_python_key_for_any_parts(db, event, subject, recipient, channel, level):
    assert _sql_key(event, subject, recipient, channel, level) == idempotency_key(
        event=event, subject=subject, recipient=recipient, channel=channel, level=level
    )


def test_the_sweep_writes_the_same_outbox_rows_in_sql_and_in_python(service):
    """PostgreSQL writes a new breach's outbox row in the sweep's one statement; SQLite
    through `_write_notifications`. Both give the same rows, keyed by `outbox_key`."""
    breaches = [late_breach(service, "one"), late_breach(service, "two")]
    columns = ("event", "unit_id", "channel", "recipient", "level", "status", "idempotency_key")
    by_sql = set(Notification.objects.values_list(*columns))
    assert {row[-1] for row in by_sql} == {outbox_key(b.pk, b.unit_id) for b in breaches}
    Notification.objects.all().delete()
    _write_notifications([(b.pk, b.unit_id) for b in breaches])
    assert set(Notification.objects.values_list(*columns)) == by_sql
