"""The escalation ladder over working days of the unit's calendar, with a fixed `now`."""

from __future__ import annotations

import threading

from django.core import mail
from django.db import connection
from django.urls import reverse

from notifications.models import Notification
from notifications.outbox import drain
from oversight.answers import breach_acknowledge
from oversight.escalation import escalate
from oversight.models import BreachEscalation, BreachEvent, EscalationPolicy
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications.conftest import late_breach

DETECTED = wib(2026, 4, 10, 10)  # Friday


def _level(breach) -> int:
    row = BreachEscalation.objects.filter(breach=breach).first()
    return row.level if row else 0


def _sent_to() -> set[str]:
    recipients = {address for m in mail.outbox for address in m.to}
    mail.outbox.clear()
    return recipients


def test_the_ladder_climbs_by_working_days_across_weekends_and_holidays(
    service, admin_a, ombudsman, client
):
    breach = late_breach(service, swept_at=DETECTED)
    drain()
    assert _sent_to() == {"layanan@unit-a.go.id", "pengaduan@unit-a.go.id"}

    # Saturday, Sunday, Monday (1), Tuesday (2): nothing.
    for day in (11, 12, 13, 14):
        assert escalate(now=wib(2026, 4, day, 23, 0)) == {1: 0, 2: 0, 3: 0}
    assert _level(breach) == 0
    # Wednesday 15 April: 3 working days -> head of the unit.
    assert escalate(now=wib(2026, 4, 15, 8, 0)) == {1: 1, 2: 0, 3: 0}
    assert escalate(now=wib(2026, 4, 15, 9, 0)) == {1: 0, 2: 0, 3: 0}  # idempotent
    drain()
    assert _sent_to() == {"kepala@unit-a.go.id"}
    # 8 working days (Wednesday 22 April) -> agency head and admins.
    assert escalate(now=wib(2026, 4, 21, 23, 0))[2] == 0
    assert escalate(now=wib(2026, 4, 22, 8, 0)) == {1: 0, 2: 1, 3: 0}
    drain()
    assert _sent_to() == {"kepala@dinas-a.go.id", admin_a.email}
    # 18 working days, skipping Labour Day (Friday 1 May) -> Thursday 7 May: the ombudsman.
    assert escalate(now=wib(2026, 5, 6, 23, 0))[3] == 0
    assert escalate(now=wib(2026, 5, 7, 8, 0)) == {1: 0, 2: 0, 3: 1}
    drain()
    assert _sent_to() == {ombudsman.email}
    assert escalate(now=wib(2026, 6, 1)) == {1: 0, 2: 0, 3: 0}

    assert list(BreachEvent.objects.filter(breach=breach).values_list("kind", "level", "via")) == [
        ("escalated", 1, "system"),
        ("escalated", 2, "system"),
        ("escalated", 3, "system"),
    ]
    assert (
        Notification.objects.filter(breach=breach, event="breach_escalated")
        .exclude(recipient="")
        .filter(channel="email")
        .count()
        == 4
    )
    login_verified(client, ombudsman)
    queue = client.get(reverse("breach_answers:queue"))
    assert f'data-breach="{breach.pk}"'.encode() in queue.content


def test_acknowledging_stops_the_ladder(service, editor_a):
    breach = late_breach(service, swept_at=DETECTED)
    escalate(now=wib(2026, 4, 15, 8, 0))
    assert _level(breach) == 1
    breach_acknowledge(breach=breach, acting_user=editor_a, now=wib(2026, 4, 16, 8, 0))
    assert escalate(now=wib(2026, 6, 1)) == {1: 0, 2: 0, 3: 0}
    assert _level(breach) == 1


def test_the_ladder_is_configurable_per_agency(service, agency_a):
    EscalationPolicy.objects.create(
        agency=agency_a, unit_head_after_days=1, agency_head_after_days=1, ombudsman_after_days=2
    )
    breach = late_breach(service, swept_at=DETECTED)
    assert escalate(now=wib(2026, 4, 12, 12, 0))[1] == 0  # Sunday: 0 working days
    assert escalate(now=wib(2026, 4, 13, 8, 0))[1] == 1  # Monday
    assert escalate(now=wib(2026, 4, 14, 8, 0))[2] == 1  # Tuesday
    assert escalate(now=wib(2026, 4, 15, 8, 0))[3] == 0
    assert escalate(now=wib(2026, 4, 16, 8, 0))[3] == 1  # Thursday
    assert _level(breach) == 3


def test_a_late_run_writes_every_level_it_skipped_once(service):
    breach = late_breach(service, swept_at=DETECTED)
    assert escalate(now=wib(2026, 5, 7, 8, 0)) == {1: 0, 2: 0, 3: 1}
    levels = sorted(
        Notification.objects.filter(breach=breach, event="breach_escalated").values_list(
            "level", flat=True
        )
    )
    assert levels == [1, 2, 3]


def test_two_ladders_at_once_raise_each_level_once(service, transactional_db):
    breaches = [late_breach(service, ref=f"late-{i}", swept_at=DETECTED) for i in range(5)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            escalate(now=wib(2026, 4, 22, 8, 0))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for breach in breaches:
        assert _level(breach) == 2
        assert BreachEvent.objects.filter(breach=breach, kind="escalated").count() == 2
        assert Notification.objects.filter(breach=breach, event="breach_escalated").count() == 2
