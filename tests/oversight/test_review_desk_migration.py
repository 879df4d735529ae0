"""The review desk's migration on a database that has rows: breaches already at the top of
the ladder or disputed are on the desk from then on; the others are not."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from oversight.models import Breach
from tests.oversight.desk_world import desk_breach

BEFORE = [("oversight", "0011_escalationpolicy_table")]


def test_escalated_and_disputed_breaches_are_on_the_desk_after_the_migration(
    transactional_db, agency_a, unit_a
):
    top = desk_breach(agency=agency_a, unit=unit_a, on_desk_days_ago=None)
    disputed = desk_breach(agency=agency_a, unit=unit_a, on_desk_days_ago=None, reason="disputed")
    lower = desk_breach(agency=agency_a, unit=unit_a, on_desk_days_ago=None, reason="none")
    escalated_at = timezone.now() - dt.timedelta(days=3)
    top.escalation.escalated_at = escalated_at
    top.escalation.save()

    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    on_desk = dict(Breach.objects.values_list("pk", "on_desk_at"))
    assert on_desk[top.pk] == escalated_at
    assert on_desk[disputed.pk] == disputed.escalation.disputed_at
    assert on_desk[lower.pk] is None
