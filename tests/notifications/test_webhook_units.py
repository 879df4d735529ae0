"""A webhook endpoint limited to some units hears only of their breaches."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from agencies.models import Unit
from core.errors import ApplicationError
from notifications.models import Notification, WebhookEndpoint
from notifications.outbox import expand_fanouts
from notifications.settings_services import webhook_endpoint_create, webhook_endpoint_update
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.notifications.conftest import late_breach
from tests.registry import make_published, make_service


@pytest.fixture
def other_unit_service(agency_a: Any, national: Any) -> Any:
    unit = Unit.objects.create(agency=agency_a, name="Kantor Cabang", slug="cabang")
    unit.contact_emails = ["cabang@unit-a.go.id"]
    unit.save()
    service = make_service(agency_a, unit, name="Legalisir", slug="legalisir")
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    return service


def _endpoints_told(breach: Any) -> set[str]:
    rows = Notification.objects.filter(breach=breach, channel="webhook")
    return {row.webhook_endpoint.url for row in rows if row.webhook_endpoint is not None}


def test_an_endpoint_limited_to_a_unit_hears_only_of_its_breaches(
    service: Any, other_unit_service: Any, agency_a: Any, unit_a: Any, admin_a: Any
) -> None:
    limited = webhook_endpoint_create(
        agency=agency_a,
        url="https://unit-a.example/hook",
        unit_ids=[unit_a.pk],
        acting_user=admin_a,
    )
    everything = webhook_endpoint_create(
        agency=agency_a, url="https://dinas-a.example/hook", acting_user=admin_a
    )
    in_unit_a = late_breach(service, "in-a")
    in_branch = late_breach(other_unit_service, "in-branch")
    while expand_fanouts():
        pass
    assert _endpoints_told(in_unit_a) == {limited.url, everything.url}
    assert _endpoints_told(in_branch) == {everything.url}

    # Limited to the branch instead: the next breach there reaches it.
    webhook_endpoint_update(
        endpoint=limited,
        url=limited.url,
        is_active=True,
        unit_ids=[other_unit_service.unit_id],
        acting_user=admin_a,
    )
    later = late_breach(other_unit_service, "in-branch-2")
    while expand_fanouts():
        pass
    assert _endpoints_told(later) == {limited.url, everything.url}


def test_units_of_another_agency_are_refused(agency_a: Any, admin_a: Any, unit_b: Any) -> None:
    with pytest.raises(ApplicationError) as error:
        webhook_endpoint_create(
            agency=agency_a,
            url="https://unit-a.example/hook",
            unit_ids=[unit_b.pk],
            acting_user=admin_a,
        )
    assert error.value.field == "units"
    assert not WebhookEndpoint.objects.exists()


def test_the_settings_page_offers_the_agencys_units_and_stores_the_choice(
    client: Any, agency_a: Any, unit_a: Any, unit_b: Any, admin_a: Any
) -> None:
    login_verified(client, admin_a)
    with translation.override("en"):
        page = reverse("notifications:agency_settings", kwargs={"agency_slug": agency_a.slug})
        add = reverse("notifications:webhook_add", kwargs={"agency_slug": agency_a.slug})
    html = client.get(page).content.decode()
    assert f'value="{unit_a.pk}"' in html and unit_a.name in html
    assert unit_b.name not in html  # another agency's unit is never offered
    response = client.post(add, {"url": "https://unit-a.example/hook", "units": [unit_a.pk]})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert list(endpoint.units.values_list("pk", flat=True)) == [unit_a.pk]
    # A forged unit id is a field error, and nothing is added.
    response = client.post(add, {"url": "https://other.example/hook", "units": [unit_b.pk]})
    assert response.status_code == 400
    assert WebhookEndpoint.objects.count() == 1


def test_editing_keeps_a_unit_closed_since(client: Any, agency_a: Any, unit_a: Any, admin_a: Any):
    """A closed unit is still offered on the edit page of an endpoint limited to it, so saving
    the page does not silently widen the endpoint to every unit."""
    endpoint = webhook_endpoint_create(
        agency=agency_a,
        url="https://unit-a.example/hook",
        unit_ids=[unit_a.pk],
        acting_user=admin_a,
    )
    unit_a.is_active = False
    unit_a.save()
    login_verified(client, admin_a)
    with translation.override("en"):
        edit = reverse(
            "notifications:webhook_edit", kwargs={"agency_slug": agency_a.slug, "pk": endpoint.pk}
        )
    page = client.get(edit).content.decode()
    assert f'value="{unit_a.pk}"' in page and "checked" in page
    response = client.post(edit, {"url": endpoint.url, "is_active": "on", "units": [unit_a.pk]})
    assert response.status_code == 302
    assert list(endpoint.units.values_list("pk", flat=True)) == [unit_a.pk]
