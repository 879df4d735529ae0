"""The in-app inbox: rows written at fan-out, read only by their owner, counted cheaply."""

from __future__ import annotations

from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from agencies.models import Role
from notifications.models import Notification, NotificationStatus
from notifications.outbox import drain, expand_fanouts
from oversight.escalation import escalate
from tests.accounts.conftest import en, login_verified
from tests.delivery.conftest import wib
from tests.factories import MembershipFactory, UnitFactory, UserFactory
from tests.notifications.conftest import late_breach

DETECTED_FRIDAY = wib(2026, 4, 10, 10)


def _inapp(**filters):
    return Notification.objects.filter(channel="inapp", **filters)


def test_a_breach_fans_out_to_each_answering_member_once(
    smtp, service, editor_a, approver_a, admin_a, editor_b, ombudsman, unit_a, agency_a
):
    other_unit = UnitFactory(agency=agency_a, slug="other")
    limited_here = UserFactory()
    MembershipFactory(user=limited_here, agency=agency_a, unit=unit_a, role=Role.EDITOR)
    limited_elsewhere = UserFactory()
    MembershipFactory(user=limited_elsewhere, agency=agency_a, unit=other_unit, role=Role.EDITOR)
    inactive = UserFactory(is_active=False)
    MembershipFactory(user=inactive, agency=agency_a, role=Role.EDITOR)

    breach = late_breach(service)
    drain()
    rows = _inapp(breach=breach)
    assert {r.user for r in rows} == {editor_a, approver_a, admin_a, limited_here}
    assert {r.status for r in rows} == {NotificationStatus.SENT}
    assert all(r.sent_at and r.read_at is None and r.level == 0 for r in rows)
    assert all(r.attempt_log.count() == 0 for r in rows)  # nothing external was attempted
    assert len(smtp.messages) == 2  # the email rows are unchanged

    # Expanding again (e.g. a resent fan-out) writes nothing new.
    Notification.objects.filter(breach=breach, recipient="").update(
        status=NotificationStatus.PENDING
    )
    expand_fanouts()
    assert rows.count() == 4


def test_escalation_levels_reach_heads_admins_then_ombudsman(
    service, editor_a, admin_a, ombudsman, unit_a, agency_a
):
    unit_head = UserFactory(email="kepala@unit-a.go.id")
    MembershipFactory(user=unit_head, agency=agency_a, unit=unit_a, role=Role.APPROVER)
    breach = late_breach(service, swept_at=DETECTED_FRIDAY)
    drain()
    escalate(now=wib(2026, 4, 15, 8, 0))
    drain()
    assert {r.user for r in _inapp(breach=breach, level=1)} == {admin_a, unit_head}
    escalate(now=wib(2026, 4, 22, 8, 0))
    drain()
    assert {r.user for r in _inapp(breach=breach, level=2)} == {admin_a}
    escalate(now=wib(2026, 5, 7, 8, 0))
    drain()
    assert {r.user for r in _inapp(breach=breach, level=3)} == {ombudsman}
    assert not _inapp(user=editor_a).exclude(level=0).exists()


def test_the_inbox_lists_only_the_users_own_rows_unread_first_to_the_eye(
    client, service, editor_a, approver_a, editor_b
):
    first = late_breach(service, "one")
    second = late_breach(service, "two")
    drain()
    mine = _inapp(user=editor_a)
    assert mine.count() == 2
    theirs = _inapp(user=approver_a).first()
    login_verified(client, editor_a)

    response = client.get(en("notifications:inbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="unread"') == 2
    assert f'data-breach="{first.pk}"' in html and f'data-breach="{second.pk}"' in html
    assert f'data-notification="{theirs.pk}"' not in html

    # Someone else's row cannot be marked read: 404, and it stays unread.
    assert client.post(en("notifications:read", pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # GET does not change anything.
    row = mine.get(breach=first)
    assert client.get(en("notifications:read", pk=row.pk)).status_code == 405

    response = client.post(en("notifications:read", pk=row.pk))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.read_at is not None
    html = client.get(en("notifications:inbox")).content.decode()
    assert html.count('class="unread"') == 1 and html.count('class="read"') == 1

    client.post(en("notifications:read_all"))
    assert not mine.filter(read_at__isnull=True).exists()
    assert _inapp(user=approver_a, read_at__isnull=True).count() == 2

    # A member of another agency sees none of it.
    login_verified(client, editor_b)
    html = client.get(en("notifications:inbox")).content.decode()
    assert "data-notification=" not in html


def test_the_inbox_needs_a_login(client):
    response = client.get(en("notifications:inbox"))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_the_inbox_query_count_does_not_grow_with_rows(
    client, service, editor_a, django_assert_max_num_queries
):
    late_breach(service, "one")
    drain()
    login_verified(client, editor_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(en("notifications:inbox")).status_code == 200
    for ref in ("two", "three", "four", "five"):
        late_breach(service, ref)
    drain()
    assert _inapp(user=editor_a).count() == 5
    with CaptureQueriesContext(connection) as many:
        assert client.get(en("notifications:inbox")).status_code == 200
    assert len(many) == len(few)
    with django_assert_max_num_queries(len(few)):
        client.get(en("notifications:inbox"))


def test_the_unread_count_tag_counts_own_unread_rows_with_one_query(
    service, editor_a, approver_a, django_assert_num_queries
):
    late_breach(service, "one")
    late_breach(service, "two")
    drain()
    _inapp(user=approver_a).update(read_at=DETECTED_FRIDAY)
    template = Template("{% load notifications_tags %}[{% unread_count %}][{% unread_count %}]")

    request = RequestFactory().get("/")
    request.user = editor_a
    with django_assert_num_queries(1):  # memoised on the request
        assert template.render(Context({"request": request})) == "[2][2]"
    request = RequestFactory().get("/")
    request.user = approver_a
    assert template.render(Context({"request": request})) == "[0][0]"

    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert template.render(Context({"request": request})) == "[0][0]"
