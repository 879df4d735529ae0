"""Staff pages of life events: the permission matrix (curator, superuser, admin of A, admin
of B, editor of A, ombudsman, anonymous), the forms' field errors, pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from agencies.models import Role
from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.services import life_event_create, life_event_step_add
from tests import factories
from tests.accounts.conftest import login_verified
from tests.registry import make_service

ROLES = ["anonymous", "curator", "superuser", "admin_a", "admin_b", "editor_a", "ombudsman"]

# Expected status per (action, role) on a journey made of agency A's services. 302 = done
# (for anonymous: sent to the login page); 403 = may see it but not change it; 404 = may
# not see it (agency B's staff: none of their services is in it).
MATRIX: dict[str, dict[str, int]] = {
    "list": {
        "anonymous": 302,
        "curator": 200,
        "superuser": 200,
        "admin_a": 200,
        "admin_b": 200,
        "editor_a": 200,
        "ombudsman": 200,
    },
    "read": {
        "anonymous": 302,
        "curator": 200,
        "superuser": 200,
        "admin_a": 200,
        "admin_b": 404,
        "editor_a": 200,
        "ombudsman": 200,
    },
    "create": {
        "anonymous": 302,
        "curator": 302,
        "superuser": 302,
        "admin_a": 403,
        "admin_b": 403,
        "editor_a": 403,
        "ombudsman": 403,
    },
    "edit": {
        "anonymous": 302,
        "curator": 302,
        "superuser": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_a": 403,
        "ombudsman": 403,
    },
    "add_step": {
        "anonymous": 302,
        "curator": 302,
        "superuser": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_a": 403,
        "ombudsman": 403,
    },
    "publish": {
        "anonymous": 302,
        "curator": 302,
        "superuser": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_a": 403,
        "ombudsman": 403,
    },
    "remove_step": {
        "anonymous": 302,
        "curator": 302,
        "superuser": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_a": 403,
        "ombudsman": 403,
    },
}


@pytest.fixture
def people(curator: Any, superuser: Any, admin_a: Any, editor_a: Any, ombudsman: Any) -> Any:
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(
        user=admin_b, agency=factories.AgencyFactory(slug="dinas-b"), role=Role.AGENCY_ADMIN
    )
    return {
        "anonymous": None,
        "curator": curator,
        "superuser": superuser,
        "admin_a": admin_a,
        "admin_b": admin_b,
        "editor_a": editor_a,
        "ombudsman": ombudsman,
    }


@pytest.fixture
def journey(published_a: Any, unit_a: Any) -> dict[str, Any]:
    event = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    first = life_event_step_add(event=event, service=published_a.service)
    other = make_service(unit_a.agency, unit_a, "Kartu Keluarga")
    second = life_event_step_add(event=event, service=other, depends_on=[first])
    return {"event": event, "first": first, "second": second, "other": other}


def _request(name: str, client: Any, j: dict[str, Any]) -> Any:
    event = j["event"]
    if name == "list":
        return client.get(reverse("life_events_staff:list"))
    if name == "read":
        return client.get(reverse("life_events_staff:detail", args=[event.pk]))
    if name == "create":
        data = {"kind": "business", "title": "Usaha", "slug": "usaha", "description": ""}
        return client.post(reverse("life_events_staff:create"), data)
    if name == "edit":
        data = {"kind": "life", "title": "Kelahiran anak", "slug": "kelahiran", "description": "x"}
        return client.post(reverse("life_events_staff:detail", args=[event.pk]), data)
    if name == "add_step":
        step: dict[str, Any] = {
            "step-service": j["other"].pk,
            "step-note": "",
            "step-depends_on": [j["second"].pk],
        }
        return client.post(reverse("life_events_staff:step_add", args=[event.pk]), step)
    if name == "publish":
        return client.post(reverse("life_events_staff:publish", args=[event.pk]), {"publish": "1"})
    return client.post(reverse("life_events_staff:step_remove", args=[event.pk, j["second"].pk]))


def _done(name: str, j: dict[str, Any]) -> bool:
    event = LifeEvent.objects.get(pk=j["event"].pk)
    if name == "create":
        return LifeEvent.objects.filter(slug="usaha").exists()
    if name == "edit":
        return event.title == "Kelahiran anak"
    if name == "add_step":
        return event.steps.count() == 3
    if name == "publish":
        return event.is_published
    if name == "remove_step":
        return not LifeEventStep.objects.filter(pk=j["second"].pk).exists()
    return True


@pytest.mark.parametrize(("name", "role"), [(n, r) for n in MATRIX for r in MATRIX[n]])
def test_permission_matrix(client: Any, people: Any, journey: Any, name: str, role: str) -> None:
    user = people[role]
    if user is not None:
        login_verified(client, user)
    response = _request(name, client, journey)
    expected = MATRIX[name][role]
    assert response.status_code == expected, (name, role)
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]
    if name not in ("list", "read"):
        assert _done(name, journey) == (expected == 302 and role != "anonymous"), (name, role)


def test_agency_staff_see_only_the_journeys_of_their_services(
    client: Any, journey: Any, editor_b: Any, editor_a: Any
) -> None:
    login_verified(client, editor_a)
    assert "Kelahiran" in client.get(reverse("life_events_staff:list")).content.decode()
    login_verified(client, editor_b)
    assert "Kelahiran" not in client.get(reverse("life_events_staff:list")).content.decode()


def test_a_dependency_on_another_events_step_is_a_field_error(
    client: Any, curator: Any, journey: Any
) -> None:
    other = life_event_create(kind="business", title="Usaha", slug="usaha")
    foreign = life_event_step_add(event=other, service=journey["other"])
    login_verified(client, curator)
    url = reverse("life_events_staff:step_add", args=[journey["event"].pk])
    data = {"step-service": journey["other"].pk, "step-depends_on": [foreign.pk]}
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["step_form"].errors["depends_on"]
    assert journey["event"].steps.count() == 2


def test_a_taken_slug_is_a_field_error(client: Any, curator: Any, journey: Any) -> None:
    login_verified(client, curator)
    data = {"kind": "life", "title": "Lagi", "slug": "kelahiran"}
    response = client.post(reverse("life_events_staff:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["slug"]


def test_a_step_cannot_move_above_a_step_it_needs(client: Any, curator: Any, journey: Any) -> None:
    login_verified(client, curator)
    url = reverse("life_events_staff:step_move", args=[journey["event"].pk, journey["second"].pk])
    client.post(url, {"direction": "up"})
    journey["second"].refresh_from_db()
    assert journey["second"].order == 2


@pytest.mark.parametrize("steps", [2, 7])
def test_staff_detail_query_count_is_flat(
    client: Any, curator: Any, unit_a: Any, django_assert_max_num_queries: Any, steps: int
) -> None:
    event = life_event_create(kind="life", title="Besar", slug="besar")
    previous: list[LifeEventStep] = []
    for n in range(steps):
        service = make_service(unit_a.agency, unit_a, f"Layanan {n}")
        previous.append(life_event_step_add(event=event, service=service, depends_on=previous[-1:]))
    login_verified(client, curator)
    # Session, user, memberships; the event; its steps (with services and agencies) and
    # their dependencies; the step form's services and earlier steps.
    with django_assert_max_num_queries(14):
        assert client.get(reverse("life_events_staff:detail", args=[event.pk])).status_code == 200


@pytest.mark.parametrize("count", [1, 6])
def test_staff_list_query_count_is_flat(
    client: Any, editor_a: Any, unit_a: Any, django_assert_num_queries: Any, count: int
) -> None:
    service = make_service(unit_a.agency, unit_a, "Akta")
    for n in range(count):
        event = life_event_create(kind="life", title=f"E{n}", slug=f"e{n}")
        life_event_step_add(event=event, service=service)
    login_verified(client, editor_a)
    # Session, user, memberships (the grants), the device check, the events in scope.
    with django_assert_num_queries(6):
        response = client.get(reverse("life_events_staff:list"))
    assert response.status_code == 200
    assert len(response.context["events"]) == count
