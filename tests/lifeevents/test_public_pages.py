"""Public life-event pages: list and journey, sitemap, the service page's link, 404s, and
query counts flat in the number of events and of steps."""

from __future__ import annotations

from typing import Any

import pytest

from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.services import (
    life_event_create,
    life_event_publish,
    life_event_step_add,
    life_event_unpublish,
)
from tests.lifeevents.conftest import published


def test_the_journey_page_shows_steps_totals_and_marks(client: Any, birth: LifeEvent) -> None:
    response = client.get("/en/life-events/kelahiran/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "Akta Kelahiran",
        "Surat Keterangan Lahir",
        "Perubahan KK",
        "Pendaftaran Asuransi",
    ):
        assert name in html
    assert "No published standard" in html
    assert "Rp" in html and "35" in html
    journey = response.context["journey"]
    assert journey.plan.cost == 35000
    # The service with a standard links its page; the one without does not.
    assert 'href="/en/agencies/dinas-a/services/' in html


def test_a_step_of_an_agency_that_keeps_missing_its_promise_is_marked(
    client: Any, birth: LifeEvent, settings: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from tests.factories import ServiceDeliveryFactory

    settings.MAKLUMAT = {**settings.MAKLUMAT, "MIN_SAMPLE": 2}
    html = client.get("/en/life-events/kelahiran/").content.decode()
    assert "Often late" not in html  # no figures yet: nothing to say
    step = birth.steps.get(order=1)
    # Three requests of agency A, handed in a month ago and finished today: all late.
    submitted = timezone.now() - dt.timedelta(days=30)
    for _ in range(3):
        ServiceDeliveryFactory(
            service=step.service, submitted_at=submitted, completed_at=timezone.now()
        )
    html = client.get("/en/life-events/kelahiran/").content.decode()
    assert "Often late" in html
    assert "0% of its requests on time" in html


def test_unpublished_events_are_not_public(client: Any, birth: LifeEvent) -> None:
    life_event_unpublish(event=birth)
    assert client.get("/life-events/kelahiran/").status_code == 404
    assert "kelahiran" not in client.get("/life-events/").content.decode()
    assert client.get("/life-events/tidak-ada/").status_code == 404


def test_the_sitemap_lists_every_published_life_event(client: Any, birth: LifeEvent) -> None:
    draft = life_event_create(kind="business", title="Usaha", slug="usaha-draf")
    xml = client.get("/sitemap.xml").content.decode()
    assert "/life-events/kelahiran/" in xml
    assert "/en/life-events/kelahiran/" in xml
    assert "/life-events/</loc>" in xml
    assert draft.slug not in xml


def test_the_service_page_says_which_journeys_it_is_part_of(client: Any, birth: LifeEvent) -> None:
    service = birth.steps.get(order=1).service
    html = client.get(service.get_absolute_url()).content.decode()
    assert 'href="/life-events/kelahiran/"' in html


def _events(unit: Any, count: int, steps: int) -> list[LifeEvent]:
    events = []
    for n in range(count):
        event = life_event_create(kind="life" if n % 2 else "business", title=f"E{n}", slug=f"e{n}")
        previous: list[LifeEventStep] = []
        for s in range(steps):
            service = published(unit, f"Layanan {n}-{s}", 1 + s % 3, [1000] if s % 2 else None)
            previous.append(
                life_event_step_add(event=event, service=service, depends_on=previous[-1:])
            )
        life_event_publish(event=event)
        events.append(event)
    return events


@pytest.mark.parametrize("count", [1, 6])
def test_list_query_count_is_flat(
    client: Any, unit_a: Any, django_assert_num_queries: Any, count: int
) -> None:
    _events(unit_a, count, 1)
    with django_assert_num_queries(1):
        assert client.get("/life-events/").status_code == 200


@pytest.mark.parametrize("steps", [2, 8])
@pytest.mark.parametrize("language", ["id", "en"])
def test_journey_page_query_count_is_flat(
    client: Any,
    unit_a: Any,
    national: Any,
    django_assert_num_queries: Any,
    steps: int,
    language: str,
) -> None:
    (event,) = _events(unit_a, 1, steps)
    prefix = "" if language == "id" else "/en"
    # The event; its steps with services, units, agencies and calendars; their dependencies;
    # the current standards, their requirements and their costs; the agencies' on-time
    # rates; the national calendar and its days (the unit's calendar is the national one).
    with django_assert_num_queries(9):
        assert client.get(f"{prefix}/life-events/{event.slug}/").status_code == 200
