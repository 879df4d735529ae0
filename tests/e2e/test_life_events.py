"""A citizen opens the birth life event and sees its steps, the total time with dates and the
total cost; axe on every new page (public and staff) in both languages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from demo.lifeevents import seed_life_events
from demo.management.commands.seed_demo import seed_registry
from lifeevents.models import LifeEvent
from tests.accounts.conftest import login_verified
from tests.e2e.test_accessibility import BLOCKING, _violations

pytestmark = pytest.mark.e2e


def test_a_citizen_opens_the_birth_life_event(page, transactional_db):
    seed_registry()
    seed_life_events()
    page.goto("/")
    page.get_by_role("link", name="Peristiwa kehidupan").first.click()
    page.get_by_role("link", name="Kelahiran anak").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kelahiran anak"
    steps = page.locator("#steps-heading + ol > li h3").all_inner_texts()
    assert steps == [
        "1. Penerbitan Akta Kelahiran",
        "2. Perubahan Data Kartu Keluarga",
        "3. Penerbitan Kartu Identitas Anak (KIA)",
    ]
    # Three one-working-day steps, one after the other.
    assert page.get_by_test_id("total-time").inner_text() == "3 hari kerja"
    dates = page.get_by_test_id("total-dates").inner_text()
    assert re.search(r"dimulai pada \w+, \d{1,2} \w+ \d{4}, langkah terakhir paling lambat", dates)
    assert page.get_by_test_id("total-cost").inner_text() == "Gratis"
    # Each step links its service page, which links back.
    page.get_by_role("link", name="Penerbitan Akta Kelahiran").click()
    assert page.get_by_role("link", name="Kelahiran anak").count() == 1


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_serious_or_critical_axe_violation_on_life_event_pages(
    page, browser, live_server, transactional_db, language
):
    from tests import factories

    seed_registry()
    seed_life_events()
    prefix = "" if language == "id" else "/en"
    event = LifeEvent.objects.get(slug="kelahiran-anak")
    step = event.steps.get(order=1)
    pages = {
        "list": "/life-events/",
        "birth": "/life-events/kelahiran-anak/",
        "business": "/life-events/memulai-usaha-kecil/",
        "staff list": "/staff/life-events/",
        "staff detail": f"/staff/life-events/{event.pk}/",
        "staff new": "/staff/life-events/new/",
        "staff step": f"/staff/life-events/{event.pk}/steps/{step.pk}/",
    }
    # A curator's verified session (second factor confirmed), handed to the browser.
    curator = factories.UserFactory(username="kurator-axe")
    factories.MembershipFactory(user=curator, agency=None, role="curator")
    client = Client()
    login_verified(client, curator)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    problems = {}
    for name, path in pages.items():
        response = page.goto(prefix + path)
        assert response is not None and response.status == 200, name
        assert page.locator("html").get_attribute("lang") == language
        blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
        if blocking:
            problems[name] = blocking
    assert not problems, problems
