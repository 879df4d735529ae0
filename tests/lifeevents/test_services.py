"""Writes of life events: who may, the dependency rules (own event, earlier steps, no
cycles), ordering, removal, publication, history, and the demo's idempotence."""

from __future__ import annotations

from typing import Any

import pytest

from agencies.models import Role
from agencies.policy import Action, can
from agencies.services import membership_grant
from core.errors import ApplicationError, PermissionDeniedError
from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.selectors import journey_view
from lifeevents.services import (
    life_event_create,
    life_event_publish,
    life_event_step_add,
    life_event_step_move,
    life_event_step_remove,
    life_event_step_update,
)
from tests.registry import make_service


@pytest.fixture
def chain(unit_a: Any) -> dict[str, Any]:
    event = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    services = [make_service(unit_a.agency, unit_a, f"Layanan {n}") for n in range(3)]
    one = life_event_step_add(event=event, service=services[0])
    two = life_event_step_add(event=event, service=services[1], depends_on=[one])
    three = life_event_step_add(event=event, service=services[2], depends_on=[two])
    return {"event": event, "one": one, "two": two, "three": three, "services": services}


def test_a_step_cannot_need_a_step_of_another_event(chain: Any) -> None:
    other = life_event_create(kind="business", title="Usaha", slug="usaha")
    with pytest.raises(ApplicationError) as error:
        life_event_step_add(event=other, service=chain["services"][0], depends_on=[chain["one"]])
    assert error.value.field == "depends_on"
    assert not other.steps.exists()


def test_a_step_cannot_need_a_later_step_or_itself(chain: Any) -> None:
    one, two = chain["one"], chain["two"]
    with pytest.raises(ApplicationError):
        life_event_step_update(step=one, service=one.service, depends_on=[two])
    with pytest.raises(ApplicationError):
        life_event_step_update(step=two, service=two.service, depends_on=[two])
    assert not one.depends_on.exists()
    assert list(two.depends_on.all()) == [one]


def test_no_change_can_close_a_cycle(chain: Any) -> None:
    # Step 3 needs 2, 2 needs 1: making 1 need 3 would close the circle.
    with pytest.raises(ApplicationError) as error:
        life_event_step_update(
            step=chain["one"], service=chain["one"].service, depends_on=[chain["three"]]
        )
    assert error.value.field == "depends_on"
    assert list(chain["one"].depends_on.all()) == []


def test_moving_a_step_above_what_it_needs_is_refused_and_others_swap(chain: Any) -> None:
    with pytest.raises(ApplicationError):
        life_event_step_move(step=chain["two"], up=True)
    free = life_event_step_add(event=chain["event"], service=chain["services"][0])
    life_event_step_move(step=free, up=True)
    orders = dict(chain["event"].steps.values_list("pk", "order"))
    assert (orders[free.pk], orders[chain["three"].pk]) == (3, 4)


def test_removing_a_step_hands_its_needs_on(chain: Any) -> None:
    life_event_step_remove(step=chain["two"])
    three = LifeEventStep.objects.get(pk=chain["three"].pk)
    assert list(three.depends_on.all()) == [chain["one"]]


def test_a_journey_without_steps_cannot_be_published(db: Any) -> None:
    event = life_event_create(kind="life", title="Kosong", slug="kosong")
    with pytest.raises(ApplicationError):
        life_event_publish(event=event)
    assert not LifeEvent.objects.get(pk=event.pk).is_published


def test_only_curators_and_superusers_write_and_the_history_says_who(
    curator: Any, superuser: Any, admin_a: Any, editor_a: Any, ombudsman: Any
) -> None:
    for outsider in (admin_a, editor_a, ombudsman):
        with pytest.raises(PermissionDeniedError):
            life_event_create(kind="life", title="X", slug="x", acting_user=outsider)
    event = life_event_create(kind="life", title="X", slug="x", acting_user=curator)
    assert event.curated_by == curator
    assert event.history.latest().history_user == curator
    life_event_create(kind="life", title="Y", slug="y", acting_user=superuser)


def test_the_curator_role_is_national_and_sees_no_private_data(
    curator: Any, admin_a: Any, agency_a: Any
) -> None:
    assert can(curator, Action.CURATE_LIFE_EVENTS, LifeEvent())
    assert not can(curator, Action.VIEW_PRIVATE, agency_a)
    assert not can(admin_a, Action.CURATE_LIFE_EVENTS, LifeEvent())
    with pytest.raises(PermissionDeniedError):
        membership_grant(user=admin_a, role=Role.CURATOR, acting_user=admin_a)
    membership = membership_grant(user=admin_a, role=Role.CURATOR, agency=agency_a)
    assert membership.agency is None  # a national role, whatever agency is passed


def test_a_cycle_made_around_the_services_does_not_break_the_page(chain: Any) -> None:
    chain["one"].depends_on.add(chain["three"])  # the shell, not the services
    view = journey_view(chain["event"])
    assert view.plan is not None
    assert view.steps[0].needs == []


def test_the_demo_journeys_are_seeded_once(db: Any) -> None:
    from demo.lifeevents import seed_life_events
    from demo.management.commands.seed_demo import seed_registry

    seed_registry()
    assert seed_life_events() == 2
    assert seed_life_events() == 0
    assert LifeEvent.objects.filter(is_published=True).count() == 2
    assert LifeEventStep.objects.count() == 6
    birth = journey_view(LifeEvent.objects.get(slug="kelahiran-anak"))
    assert [s.service.slug for s in birth.steps] == ["akta-kelahiran", "perubahan-kk", "kia"]
    assert birth.plan is not None and birth.plan.working_days == 3
    business = journey_view(LifeEvent.objects.get(slug="memulai-usaha-kecil"))
    assert business.plan is not None
    assert business.plan.working_days == 6  # NIB 1 + the longer of IUMK 1 and reklame 5
