"""The inbox stays readable: grouped by kind and unit, a group marked read at once (the
user's own rows only), and the digest the default where a unit receives many at once."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.test import Client

from delivery.services import delivery_record
from notifications.models import Notification, RecipientPreference
from notifications.outbox import expand_fanouts, notifications_mark_group_read
from notifications.selectors import inbox_groups
from oversight.escalation import escalate
from oversight.sweep import sweep
from tests import factories
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib

URL = "/staff/inbox/"
_keys = itertools.count(1)


def _row(user: Any, unit: Any, event: str = "breach_created", read: bool = False) -> Any:
    return Notification.objects.create(
        event=event,
        channel="inapp",
        user=user,
        unit=unit,
        recipient=f"user:{user.pk}",
        status="sent",
        idempotency_key=f"group-test:{next(_keys)}",
        read_at=wib(2026, 1, 1) if read else None,
    )


@pytest.fixture
def inbox(editor_a, approver_a, agency_a, unit_a):
    unit_a2 = factories.UnitFactory(agency=agency_a, name="Unit A2", slug="unit-a2")
    for _ in range(3):
        _row(editor_a, unit_a)
    _row(editor_a, unit_a, read=True)
    _row(editor_a, unit_a, event="breach_escalated")
    for _ in range(2):
        _row(editor_a, unit_a2)
    # Someone else's rows in the same group.
    for _ in range(2):
        _row(approver_a, unit_a)
    return {"unit_a2": unit_a2}


def _groups(user: Any) -> dict[tuple[str, int | None], tuple[int, int]]:
    return {(g.event, g.unit_id): (g.unread, g.total) for g in inbox_groups(user=user)}


def test_grouped_by_kind_and_unit(editor_a, unit_a, inbox):
    assert _groups(editor_a) == {
        ("breach_created", unit_a.pk): (3, 4),
        ("breach_escalated", unit_a.pk): (1, 1),
        ("breach_created", inbox["unit_a2"].pk): (2, 2),
    }
    labels = {g.event: g.label for g in inbox_groups(user=editor_a)}
    assert labels["breach_created"] == "Pelanggaran baru"


def test_mark_a_group_read_touches_only_that_group_of_that_user(
    editor_a, approver_a, unit_a, inbox
):
    assert (
        notifications_mark_group_read(
            acting_user=editor_a, event="breach_created", unit_id=unit_a.pk
        )
        == 3
    )
    assert _groups(editor_a) == {
        ("breach_created", unit_a.pk): (0, 4),
        ("breach_escalated", unit_a.pk): (1, 1),
        ("breach_created", inbox["unit_a2"].pk): (2, 2),
    }
    assert _groups(approver_a) == {("breach_created", unit_a.pk): (2, 2)}


def test_the_page_lists_the_groups_and_marks_one_read(client, editor_a, approver_a, unit_a, inbox):
    login_verified(client, editor_a)
    body = client.get(URL).content.decode()
    assert f'data-group="breach_created:{unit_a.pk}" data-unread="3"' in body
    response = client.post(
        "/staff/inbox/read-group/", {"event": "breach_created", "unit": unit_a.pk}
    )
    assert response.status_code == 302
    assert _groups(editor_a)[("breach_created", unit_a.pk)] == (0, 4)
    assert _groups(approver_a)[("breach_created", unit_a.pk)] == (2, 2)


def test_a_group_shows_only_its_rows(client, editor_a, inbox):
    login_verified(client, editor_a)
    response = client.get(URL, {"event": "breach_created", "unit": inbox["unit_a2"].pk})
    assert response.status_code == 200
    assert len(re.findall(r'data-notification="\d+"', response.content.decode())) == 2


def test_another_users_group_is_out_of_reach(client, editor_b, unit_a, approver_a, inbox):
    login_verified(client, editor_b)
    client.post("/staff/inbox/read-group/", {"event": "breach_created", "unit": unit_a.pk})
    assert _groups(approver_a)[("breach_created", unit_a.pk)] == (2, 2)


@pytest.mark.parametrize(
    "data",
    [
        {"event": "", "unit": "1"},
        {"event": "x" * 41, "unit": "1"},
        {"event": "breach_created", "unit": "abc"},
        {"event": "breach_created", "unit": "-4"},
        {"event": "breach_created", "unit": "99999999999999999999999"},
    ],
)
def test_bad_input_is_a_400_not_a_500(client, editor_a, inbox, data):
    login_verified(client, editor_a)
    assert client.post("/staff/inbox/read-group/", data).status_code == 400
    assert client.get(URL, data).status_code == 400


def test_marking_a_group_needs_post_csrf_and_a_login(editor_a, unit_a, inbox):
    anonymous = Client()
    response = anonymous.post("/staff/inbox/read-group/", {"event": "breach_created"})
    assert response.status_code == 302 and "login" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    login_verified(strict, editor_a)
    response = strict.post(
        "/staff/inbox/read-group/", {"event": "breach_created", "unit": unit_a.pk}
    )
    assert response.status_code == 403
    assert strict.get("/staff/inbox/read-group/").status_code == 405
    assert _groups(editor_a)[("breach_created", unit_a.pk)] == (3, 4)


# --- The digest, the default where a unit receives many at once ---------------------------

LAYANAN = "layanan@unit-a.go.id"
PENGADUAN = "pengaduan@unit-a.go.id"


@pytest.fixture
def burst_at_3(settings: Any) -> None:
    settings.NOTIFICATIONS = {"DIGEST_BURST_AT": 3}


def _late_requests(service: Any, count: int) -> None:
    for n in range(count):
        delivery_record(
            service=service,
            reference=f"burst-{n}",
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
            completed_at=wib(2026, 1, 20),
        )
    sweep(now=wib(2026, 2, 2, 10), kinds=["late_delivery"])
    while expand_fanouts():
        pass


def _channels(email: str, level: int = 0) -> set[str]:
    return set(
        Notification.objects.filter(recipient=email, level=level).values_list("channel", flat=True)
    )


def test_a_few_at_once_go_one_by_one(burst_at_3, service):
    _late_requests(service, 3)
    assert _channels(LAYANAN) == {"email"}
    assert Notification.objects.filter(recipient=LAYANAN, channel="email").count() == 3


def test_many_at_once_go_to_the_digest_unless_the_person_chose_each(burst_at_3, service):
    RecipientPreference.objects.create(email=PENGADUAN, mode="immediate")
    _late_requests(service, 4)
    assert _channels(LAYANAN) == {"digest"}
    assert Notification.objects.filter(recipient=LAYANAN, channel="digest").count() == 4
    assert _channels(PENGADUAN) == {"email"}  # opted for one email each


def test_escalations_still_arrive_one_by_one(burst_at_3, service):
    _late_requests(service, 4)
    escalate(now=wib(2026, 2, 9, 8))
    while expand_fanouts():
        pass
    escalated = Notification.objects.filter(level=1).exclude(recipient="").exclude(channel="inapp")
    assert escalated.count() >= 4
    assert set(escalated.values_list("channel", flat=True)) == {"email"}


def test_the_default_threshold_leaves_ordinary_sweeps_alone(service):
    _late_requests(service, 5)
    assert _channels(LAYANAN) == {"email"}
