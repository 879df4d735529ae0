"""The floor-plan migrations on a database that has rows: notifications' breach column
becomes subject columns, and the escalation ladder moves to oversight, keeping every row,
key and outcome."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications.models import EmailAddressHealth, Notification
from notifications.outbox import drain
from oversight.escalation import ladder_for
from oversight.models import BreachEvent, CitizenFollower, EscalationPolicy
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach

service = notifications_conftest.service  # the fixtures, shared
smtp = notifications_conftest.smtp

BEFORE = [
    ("notifications", "0010_webhook_units"),
    ("oversight", "0008_purge_unconfirmed_followers_schedule"),
]
CITIZEN = "warga@example.org"
LADDER = "Breach escalation ladder"


def _old_rows(apps: Any, *, breach: Any, event: Any, follower: Any, health: Any) -> None:
    """Rows as the code before the move wrote them: the subject only in the breach column
    and in the keys."""
    Notification = apps.get_model("notifications", "Notification")
    common = {"channel": "email", "level": 0, "unit_id": breach.unit_id}
    Notification.objects.create(
        event="breach_answered",
        breach_id=breach.pk,
        recipient=CITIZEN,
        status="sent",
        attempts=1,
        idempotency_key=f"breach_answered:breach:{breach.pk}:event:{event.pk}:{CITIZEN}:email:0",
        **common,
    )
    Notification.objects.create(
        event="follow_confirm",
        recipient=CITIZEN,
        status="failed",
        attempts=3,
        last_error="Gave up",
        idempotency_key=f"follow_confirm:follower:{follower.pk}:20260105T010203.000004Z:"
        f"{CITIZEN}:email:0",
        **common,
    )
    Notification.objects.create(
        event="email_disabled",
        recipient="admin@dinas-a.go.id",
        idempotency_key=f"email_disabled:address{health.pk}-1767225600000000:"
        "admin@dinas-a.go.id:email:0",
        **common,
    )
    apps.get_model("notifications", "EscalationPolicy").objects.create(
        agency_id=breach.agency_id,
        unit_head_after_days=2,
        agency_head_after_days=4,
        ombudsman_after_days=6,
    )
    interval, _ = apps.get_model("django_celery_beat", "IntervalSchedule").objects.get_or_create(
        every=15, period="minutes"
    )
    apps.get_model("django_celery_beat", "PeriodicTask").objects.update_or_create(
        name=LADDER, defaults={"task": "notifications.escalate", "interval": interval}
    )


def test_the_subject_columns_and_the_ladder_move_keep_every_row(
    transactional_db, service, smtp, editor_a
):
    breach = late_breach(service)
    drain()  # the fan-out row, its email and in-app rows: all about the breach
    now = timezone.now()
    event = BreachEvent.objects.create(breach=breach, kind="explained", text="x", created_at=now)
    assert breach.delivery is not None
    follower = CitizenFollower.objects.create(delivery=breach.delivery, email=CITIZEN)
    health = EmailAddressHealth.objects.create(email="layanan@unit-a.go.id", disabled_at=now)
    about_breach = set(Notification.objects.filter(breach=breach).values_list("pk", flat=True))
    assert len(about_breach) >= 3

    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        OldNotification = old.get_model("notifications", "Notification")
        # Going back filled the breach column again from the subject.
        assert (
            set(OldNotification.objects.filter(breach_id=breach.pk).values_list("pk", flat=True))
            == about_breach
        )
        _old_rows(old, breach=breach, event=event, follower=follower, health=health)
        before = {
            row["pk"]: row
            for row in OldNotification.objects.values(
                "pk", "event", "idempotency_key", "status", "attempts", "last_error", "recipient"
            )
        }
        policy_pk = old.get_model("notifications", "EscalationPolicy").objects.get().pk
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    after = {
        row["pk"]: row
        for row in Notification.objects.values(
            "pk", "event", "idempotency_key", "status", "attempts", "last_error", "recipient"
        )
    }
    assert after == before  # every row, with its key and outcome
    rows = {row.event: row for row in Notification.objects.exclude(pk__in=about_breach)}
    assert set(Notification.objects.filter(breach=breach).values_list("pk", flat=True)) == {
        *about_breach,
        rows["breach_answered"].pk,
    }
    assert all(r.subject == breach for r in Notification.objects.filter(pk__in=about_breach))
    answered = rows["breach_answered"]
    assert (answered.subject, answered.subject_event_id) == (breach, event.pk)
    assert (rows["follow_confirm"].subject, rows["follow_confirm"].subject_event_id) == (
        follower,
        None,
    )
    assert rows["email_disabled"].subject == health

    # The ladder moved with its row, and beat calls its task by the new name.
    policy = EscalationPolicy.objects.get()
    assert (policy.pk, policy.agency_id) == (policy_pk, breach.agency_id)
    assert ladder_for(breach.agency_id) == (2, 6, 12)
    assert PeriodicTask.objects.get(name=LADDER).task == "oversight.escalate"
    assert not PeriodicTask.objects.filter(task="notifications.escalate").exists()
