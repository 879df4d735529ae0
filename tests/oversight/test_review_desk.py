"""The ombudsman's review desk: who reaches it, what is on it, its filters, order, keyset
pages, saved views, assignment and bulk actions, and its query count."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from core.errors import PermissionDeniedError
from notifications.models import Notification
from notifications.outbox import drain
from oversight import desk
from oversight.answers import breach_dispute
from oversight.escalation import escalate
from oversight.models import Breach, BreachEvent, SavedQueueFilter
from oversight.notices import EXPLANATION_ASKED
from tests import factories
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach
from tests.oversight.desk_world import desk_breach
from tests.registry import make_service

service = notifications_conftest.service  # the fixture, shared

QUEUE = "/staff/breaches/queue/"
BULK = "/staff/breaches/queue/bulk/"
SAVE = "/staff/breaches/queue/views/"


def rows(response: Any) -> list[int]:
    """The breaches listed on a desk page, in order."""
    return [int(pk) for pk in re.findall(r'<tr data-breach="(\d+)"', response.content.decode())]


def next_link(response: Any) -> str | None:
    found = re.search(r'<a href="\?([^"]*)" rel="next"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def colleague(db: Any) -> Any:
    user = factories.UserFactory(username="ombudsman2")
    factories.MembershipFactory(user=user, agency=None, role=Role.OMBUDSMAN)
    return user


@pytest.fixture
def reviewer(client: Client, ombudsman: Any) -> Client:
    login_verified(client, ombudsman)
    return client


@pytest.fixture
def world(agency_a: Any, agency_b: Any, unit_a: Any, unit_b: Any, ombudsman: Any) -> dict[str, Any]:
    """Two agencies in two provinces; breaches on the desk for every filter, and some not."""
    agency_b.region_code = "35.78"
    agency_b.region_name = "Kota Surabaya"
    agency_b.save()
    svc_a = make_service(agency_a, unit_a, name="Akta Kelahiran")
    svc_b = make_service(agency_b, unit_b, name="KTP-el")
    unit_a2 = factories.UnitFactory(agency=agency_a, slug="unit-a2")
    w: dict[str, Any] = {
        "old_a": desk_breach(agency=agency_a, unit=unit_a, service=svc_a, days_ago=40),
        "new_a": desk_breach(
            agency=agency_a, unit=unit_a2, days_ago=2, kind="overcharge", suggested="illegal_charge"
        ),
        "disputed_b": desk_breach(
            agency=agency_b,
            unit=unit_b,
            service=svc_b,
            days_ago=20,
            reason="disputed",
            status="acknowledged",
            on_desk_days_ago=5,
        ),
        "pulled_b": desk_breach(
            agency=agency_b,
            unit=unit_b,
            days_ago=8,
            reason="pulled",
            assignee=ombudsman,
            on_desk_days_ago=3,
        ),
        "closed_a": desk_breach(
            agency=agency_a,
            unit=unit_a,
            days_ago=30,
            status="confirmed",
            decided="procedure_deviation",
        ),
        "off_desk": desk_breach(agency=agency_a, unit=unit_a, on_desk_days_ago=None, reason="none"),
    }
    w.update(svc_a=svc_a, svc_b=svc_b, unit_a2=unit_a2)
    return w


# --- Who reaches the desk ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["editor_a", "approver_a", "admin_a", "editor_b"])
def test_agency_staff_never_reach_the_desk(client, cast, world, who):
    login_verified(client, cast[who])
    assert client.get(QUEUE).status_code == 403
    ids = [world["old_a"].pk]
    assert client.post(BULK, {"breach": ids, "action": "assign_me"}).status_code == 403
    assert client.post(SAVE, {"name": "mine", "q": "kind=overcharge"}).status_code == 403
    assert Breach.objects.get(pk=world["old_a"].pk).assignee_id is None
    assert not SavedQueueFilter.objects.exists()


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["ombudsman", "superuser"])
def test_reviewers_see_every_agency_on_the_desk(client, cast, world, who):
    login_verified(client, cast[who])
    response = client.get(QUEUE)
    assert response.status_code == 200
    # Awaiting a decision, across both agencies; closed and off-desk breaches are not listed.
    assert set(rows(response)) == {
        world[k].pk for k in ("old_a", "new_a", "disputed_b", "pulled_b")
    }


def test_an_unverified_reviewer_must_pass_two_factor(client, ombudsman, world):
    client.force_login(ombudsman)
    response = client.get(QUEUE)
    assert response.status_code == 302 and rows(response) == []


# --- What puts a breach on the desk --------------------------------------------------------


def test_the_top_of_the_ladder_and_a_dispute_put_a_breach_on_the_desk(
    service, approver_a, national
):
    silent = late_breach(service, "REQ-SILENT")
    disputed = late_breach(service, "REQ-DISPUTED")
    assert silent.on_desk_at is None and disputed.on_desk_at is None
    breach_dispute(breach=disputed, acting_user=approver_a, text="Pemohon minta ditunda")
    escalate(now=wib(2026, 2, 16, 8, 0))  # level 2: not yet the desk
    silent.refresh_from_db()
    assert silent.on_desk_at is None
    escalate(now=wib(2027, 6, 1, 8, 0))
    silent.refresh_from_db()
    disputed.refresh_from_db()
    assert silent.on_desk_at == wib(2027, 6, 1, 8, 0)
    assert disputed.on_desk_at is not None


def test_a_reviewer_pulls_a_breach_in_and_agency_staff_cannot(
    client, world, ombudsman, editor_a, editor_b
):
    breach = world["off_desk"]
    url = reverse("breach_answers:pull_in", kwargs={"pk": breach.pk})
    login_verified(client, editor_a)
    assert client.post(url).status_code == 403  # their agency's breach: it exists
    client.logout()
    login_verified(client, editor_b)
    assert client.post(url).status_code == 404  # another agency's: nothing to learn
    breach.refresh_from_db()
    assert breach.on_desk_at is None
    client.logout()
    login_verified(client, ombudsman)
    detail = client.get(reverse("breach_answers:detail", kwargs={"pk": breach.pk}))
    assert f'action="{url}"' in detail.content.decode()
    assert client.post(url).status_code == 302
    breach.refresh_from_db()
    assert breach.on_desk_at is not None
    assert BreachEvent.objects.get(breach=breach).kind == "pulled_in"
    assert breach.pk in rows(client.get(QUEUE, {"reason": "pulled"}))
    # Twice: refused with a message, nothing more recorded.
    assert client.post(url).status_code == 302
    assert BreachEvent.objects.filter(breach=breach).count() == 1


def test_pulling_in_needs_a_post(reviewer, world):
    url = reverse("breach_answers:pull_in", kwargs={"pk": world["off_desk"].pk})
    assert reviewer.get(url).status_code == 405


# --- Filters -------------------------------------------------------------------------------


FILTERS: list[tuple[dict[str, str], set[str]]] = [
    ({"region": "35"}, {"disputed_b", "pulled_b"}),
    ({"region": "32.73"}, {"old_a", "new_a"}),
    ({"kind": "overcharge"}, {"new_a"}),
    ({"category": "illegal_charge"}, {"new_a"}),
    ({"category": "procedure_deviation", "status": "all"}, {"closed_a"}),
    ({"status": "acknowledged"}, {"disputed_b"}),
    ({"status": "closed"}, {"closed_a"}),
    ({"status": "all"}, {"old_a", "new_a", "disputed_b", "pulled_b", "closed_a"}),
    ({"age": "15"}, {"old_a", "disputed_b"}),
    ({"age": "0"}, {"old_a", "new_a", "disputed_b", "pulled_b"}),
    ({"assigned": "me"}, {"pulled_b"}),
    ({"assigned": "nobody"}, {"old_a", "new_a", "disputed_b"}),
    ({"reason": "escalated"}, {"old_a", "new_a"}),
    ({"reason": "disputed"}, {"disputed_b"}),
    ({"reason": "pulled"}, {"pulled_b"}),
    ({"kind": "late_delivery", "region": "32"}, {"old_a"}),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_each_filter(reviewer, world, params, expected):
    response = reviewer.get(QUEUE, params)
    assert response.status_code == 200
    assert set(rows(response)) == {world[k].pk for k in expected}


def test_filters_by_agency_unit_service_and_colleague(reviewer, world, agency_b, colleague):
    assert set(rows(reviewer.get(QUEUE, {"agency": agency_b.pk}))) == {
        world["disputed_b"].pk,
        world["pulled_b"].pk,
    }
    assert rows(reviewer.get(QUEUE, {"unit": world["unit_a2"].pk})) == [world["new_a"].pk]
    assert rows(reviewer.get(QUEUE, {"service": world["svc_b"].pk})) == [world["disputed_b"].pk]
    Breach.objects.filter(pk=world["old_a"].pk).update(assignee=colleague)
    assert rows(reviewer.get(QUEUE, {"assigned": str(colleague.pk)})) == [world["old_a"].pk]


@pytest.mark.parametrize(
    "params",
    [
        {"agency": "abc"},
        {"agency": "99999999999999999999"},
        {"unit": "-1"},
        {"unit": "99999999999999999999"},
        {"service": "x"},
        {"region": "Jawa"},
        {"age": "-3"},
        {"age": "abc"},
        {"status": "nope"},
        {"kind": "nope"},
        {"category": "nope"},
        {"assigned": "12345"},
        {"reason": "bored"},
        {"sort": "name"},
        {"after": "not-a-cursor"},
        {"region": "32\x00"},
    ],
)
def test_bad_filters_are_form_errors_never_a_500(reviewer, world, params):
    response = reviewer.get(QUEUE, params)
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert rows(response) == []


def test_counts_per_state_ignore_the_status_filter(reviewer, world):
    response = reviewer.get(QUEUE, {"region": "32", "status": "closed"})
    html = response.content.decode()

    def count(status: str) -> int:
        found = re.search(rf'data-status="{status}">.*?<span class="count">(\d+)</span>', html)
        assert found, status
        return int(found.group(1))

    assert (count("open"), count("confirmed"), count("acknowledged")) == (2, 1, 0)
    assert 'href="?region=32&amp;status=open"' in html


# --- Sorting and keyset pages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["old_a", "disputed_b", "pulled_b", "new_a"]),
        ("oldest", ["old_a", "disputed_b", "pulled_b", "new_a"]),
        ("newest", ["new_a", "pulled_b", "disputed_b", "old_a"]),
        ("waiting", ["disputed_b", "pulled_b", "old_a", "new_a"]),
        ("arrived", ["new_a", "old_a", "pulled_b", "disputed_b"]),
    ],
)
def test_sorting(reviewer, world, sort, order):
    assert rows(reviewer.get(QUEUE, {"sort": sort} if sort else {})) == [world[k].pk for k in order]


@pytest.mark.parametrize("sort", ["oldest", "newest", "waiting", "arrived"])
def test_keyset_pages_are_stable(reviewer, agency_a, unit_a, sort):
    made = [desk_breach(agency=agency_a, unit=unit_a) for _ in range(120)]
    # Many exact ties on the sort key: the id must break them, or rows repeat or vanish.
    base = timezone.now()
    for i, breach in enumerate(made):
        Breach.objects.filter(pk=breach.pk).update(
            occurred_at=base - dt.timedelta(days=i % 17 + 1),
            on_desk_at=base - dt.timedelta(days=i % 5),
        )
    first = reviewer.get(QUEUE, {"sort": sort})
    page1 = rows(first)
    assert len(page1) == 50
    query = next_link(first)
    assert query is not None
    # A breach arriving while the reviewer reads does not shift the next page (no offsets).
    desk_breach(agency=agency_a, unit=unit_a, days_ago=8, on_desk_days_ago=2)
    second = reviewer.get(f"{QUEUE}?{query}")
    page2 = rows(second)
    assert reviewer.get(f"{QUEUE}?{query}").status_code == 200
    assert rows(reviewer.get(f"{QUEUE}?{query}")) == page2  # the same URL, the same page
    third = reviewer.get(f"{QUEUE}?{next_link(second)}")
    seen = page1 + page2 + rows(third)
    assert len(seen) == len(set(seen))
    assert {b.pk for b in made} <= set(seen)
    assert 'rel="first"' in second.content.decode()
    # The whole walk is in the sort's order (the key, then the id).
    field = {"oldest": "occurred_at", "newest": "-occurred_at"}.get(sort)
    field = field or {"waiting": "on_desk_at", "arrived": "-on_desk_at"}[sort]
    id_order = "-pk" if field.startswith("-") else "pk"
    expected = list(
        Breach.objects.filter(pk__in=seen).order_by(field, id_order).values_list("pk", flat=True)
    )
    assert seen == expected


def test_a_cursor_made_for_another_order_is_refused(reviewer, agency_a, unit_a):
    for i in range(60):
        desk_breach(agency=agency_a, unit=unit_a, days_ago=i)
    query = next_link(reviewer.get(QUEUE, {"sort": "oldest"}))
    assert query is not None
    response = reviewer.get(f"{QUEUE}?{query.replace('sort=oldest', 'sort=newest')}")
    assert response.status_code == 400


# --- Saved views ---------------------------------------------------------------------------


def test_saved_views_belong_to_their_owner(client, world, ombudsman, colleague):
    login_verified(client, ombudsman)
    response = client.post(SAVE, {"name": "Surabaya", "q": "region=35&after=xyz&sort=newest"})
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?region=35&sort=newest"
    saved = SavedQueueFilter.objects.get(owner=ombudsman)
    assert saved.query == "region=35&sort=newest"  # the cursor is not part of a view
    page = client.get(QUEUE).content.decode()
    assert f'data-saved-view="{saved.pk}"' in page and f"{QUEUE}?region=35&amp;sort=newest" in page
    # Saving under the same name replaces the filters.
    client.post(SAVE, {"name": "Surabaya", "q": "region=35"})
    assert SavedQueueFilter.objects.get(owner=ombudsman).query == "region=35"
    client.logout()

    login_verified(client, colleague)
    assert f'data-saved-view="{saved.pk}"' not in client.get(QUEUE).content.decode()
    delete = reverse("breach_answers:queue_filter_delete", kwargs={"pk": saved.pk})
    assert client.post(delete).status_code == 404
    assert SavedQueueFilter.objects.filter(pk=saved.pk).exists()
    client.logout()

    login_verified(client, ombudsman)
    assert client.post(delete).status_code == 302
    assert not SavedQueueFilter.objects.filter(pk=saved.pk).exists()


def test_a_view_without_a_name_is_a_form_error(reviewer, world):
    response = reviewer.post(SAVE, {"name": "  ", "q": "region=35"})
    assert response.status_code == 400 and "field-error" in response.content.decode()
    assert not SavedQueueFilter.objects.exists()


# --- Assignment and bulk actions -----------------------------------------------------------


def test_assign_to_me_then_to_a_colleague(reviewer, world, ombudsman, colleague):
    ids = [world["old_a"].pk, world["new_a"].pk]
    response = reviewer.post(BULK, {"breach": ids, "action": "assign_me", "q": "region=32"})
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}?region=32"
    assert set(Breach.objects.filter(assignee=ombudsman).values_list("pk", flat=True)) == {
        *ids,
        world["pulled_b"].pk,
    }
    response = reviewer.post(
        BULK, {"breach": ids[:1], "action": "assign", "assignee": str(colleague.pk)}
    )
    assert response.status_code == 302
    assert Breach.objects.get(pk=ids[0]).assignee == colleague
    events = BreachEvent.objects.filter(breach_id=ids[0], kind="assigned").order_by("pk")
    assert [(e.actor, e.text) for e in events] == [
        (ombudsman, "ombudsman"),
        (ombudsman, "ombudsman2"),
    ]
    assert rows(reviewer.get(QUEUE, {"assigned": "me"})) == [
        world["pulled_b"].pk,
        world["new_a"].pk,
    ]


def test_only_a_reviewer_can_be_assigned(reviewer, world, editor_a):
    breach = world["old_a"]
    for assignee in (str(editor_a.pk), "", "999999"):
        response = reviewer.post(
            BULK, {"breach": [breach.pk], "action": "assign", "assignee": assignee}
        )
        assert response.status_code == 400
    breach.refresh_from_db()
    assert breach.assignee is None and not BreachEvent.objects.filter(breach=breach).exists()
    with pytest.raises(PermissionDeniedError):
        desk.breaches_assign(breach_ids=[breach.pk], acting_user=editor_a, assignee=editor_a)


def test_request_an_explanation_reaches_the_unit_through_the_outbox(
    reviewer, world, ombudsman, unit_a, editor_a
):
    unit_a.contact_emails = ["layanan@unit-a.go.id"]
    unit_a.save()
    breach = world["old_a"]
    response = reviewer.post(
        BULK,
        {"breach": [breach.pk], "action": "explain", "text": "Mengapa akta terlambat 10 hari?"},
    )
    assert response.status_code == 302
    event = BreachEvent.objects.get(breach=breach, kind="explanation_asked")
    assert (event.actor, event.text) == (ombudsman, "Mengapa akta terlambat 10 hari?")
    fan_out = Notification.objects.get(event=EXPLANATION_ASKED, recipient="")
    assert (fan_out.subject, fan_out.subject_event_id, fan_out.unit_id) == (
        breach,
        event.pk,
        unit_a.pk,
    )
    drain()
    email = Notification.objects.get(event=EXPLANATION_ASKED, recipient="layanan@unit-a.go.id")
    assert email.status == "sent"
    # The unit's answering staff see it in their inbox.
    assert Notification.objects.filter(event=EXPLANATION_ASKED, channel="inapp", user=editor_a)
    from django.core import mail

    message = next(m for m in mail.outbox if m.to == ["layanan@unit-a.go.id"])
    assert "Mengapa akta terlambat 10 hari?" in str(message.body)
    assert f"/staff/breaches/{breach.pk}/" in str(message.body)


def test_close_out_of_authority_with_a_reason(reviewer, world):
    ids = [world["old_a"].pk, world["pulled_b"].pk]
    empty = reviewer.post(BULK, {"breach": ids, "action": "out_of_authority", "text": " "})
    assert empty.status_code == 400
    assert Breach.objects.filter(pk__in=ids, status="out_of_authority").count() == 0
    done = reviewer.post(
        BULK, {"breach": ids, "action": "out_of_authority", "text": "Sengketa perdata"}
    )
    assert done.status_code == 302
    assert Breach.objects.filter(pk__in=ids, status="out_of_authority").count() == 2
    assert (
        BreachEvent.objects.filter(
            breach_id__in=ids, kind="out_of_authority", text="Sengketa perdata"
        ).count()
        == 2
    )
    assert not set(ids) & set(rows(reviewer.get(QUEUE)))  # no longer awaiting a decision
    assert set(ids) <= set(rows(reviewer.get(QUEUE, {"status": "out_of_authority"})))


def test_a_bulk_action_is_all_or_nothing(reviewer, world):
    ids = [world["old_a"].pk, world["closed_a"].pk]
    response = reviewer.post(BULK, {"breach": ids, "action": "explain", "text": "Jelaskan"})
    assert response.status_code == 400 and "field-error" in response.content.decode()
    assert not BreachEvent.objects.exists()
    assert not Notification.objects.filter(event=EXPLANATION_ASKED).exists()
    # A breach not on the desk cannot be acted on from it.
    off = reviewer.post(BULK, {"breach": [world["off_desk"].pk], "action": "assign_me"})
    assert off.status_code == 400
    assert Breach.objects.get(pk=world["off_desk"].pk).assignee_id is None


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign_me"},
        {"breach": ["abc"], "action": "assign_me"},
        {"breach": ["99999999999999999999"], "action": "assign_me"},
        {"breach": ["1"], "action": "nope"},
        {"breach": [str(i) for i in range(1, 150)], "action": "assign_me"},
    ],
)
def test_bad_bulk_input_is_a_form_error(reviewer, world, data):
    response = reviewer.post(BULK, data)
    assert response.status_code == 400
    assert not BreachEvent.objects.exists()


def test_the_desk_forms_need_the_csrf_token(ombudsman, world):
    client = Client(enforce_csrf_checks=True)
    login_verified(client, ombudsman)
    response = client.post(BULK, {"breach": [world["old_a"].pk], "action": "assign_me"})
    assert response.status_code == 403
    assert Breach.objects.get(pk=world["old_a"].pk).assignee_id is None
    page = client.get(QUEUE).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 2  # the bulk form and the saved view form


# --- Query count ---------------------------------------------------------------------------


def _fill(n: int, colleague: Any) -> None:
    for i in range(n):
        agency = factories.AgencyFactory()
        unit = factories.UnitFactory(agency=agency)
        service = make_service(agency, unit, name=f"Layanan {i}")
        desk_breach(
            agency=agency,
            unit=unit,
            service=service,
            days_ago=i + 1,
            assignee=colleague if i % 2 else None,
            reason=["escalated", "disputed", "pulled"][i % 3],
        )


def test_the_desk_query_count_is_pinned_and_does_not_grow(
    reviewer, colleague, django_assert_max_num_queries, django_assert_num_queries
):
    _fill(5, colleague)
    reviewer.get(QUEUE)  # warm the session and the content types
    with django_assert_max_num_queries(14) as small:
        assert len(rows(reviewer.get(QUEUE, {"sort": "newest", "region": "32"}))) == 5
    _fill(60, colleague)
    with django_assert_num_queries(len(small.captured_queries)):
        response = reviewer.get(QUEUE, {"sort": "newest", "region": "32"})
        assert len(rows(response)) == 50
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(rows(reviewer.get(f"{QUEUE}?{next_link(response)}"))) == 15
