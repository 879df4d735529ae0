"""Operators see a citizen's address masked in the admin; an exact search still finds it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from notifications.models import Notification
from tests.accounts.conftest import login_verified
from tests.factories import NotificationFactory

CITIZEN = "warga.pelapor@example.org"


def _row(event: str, recipient: str, key: str) -> Notification:
    return NotificationFactory.create(
        event=event, channel="email", recipient=recipient, idempotency_key=key
    )


def test_a_citizens_address_is_masked_in_the_admin(client: Any, superuser: Any) -> None:
    citizen = _row("breach_answered", CITIZEN, "k1")
    staff = _row("breach_created", "layanan@unit-a.go.id", "k2")
    login_verified(client, superuser)
    changelist = client.get(reverse("admin:notifications_notification_changelist"))
    html = changelist.content.decode()
    assert changelist.status_code == 200
    assert "w***@example.org" in html and CITIZEN not in html
    assert "layanan@unit-a.go.id" in html  # staff addresses are shown as they are
    change = client.get(
        reverse("admin:notifications_notification_change", args=[citizen.pk])
    ).content.decode()
    assert "w***@example.org" in change and CITIZEN not in change
    found = client.get(
        reverse("admin:notifications_notification_changelist"), {"q": CITIZEN}
    ).content.decode()
    assert "w***@example.org" in found and "layanan@unit-a.go.id" not in found
    assert str(citizen) == "breach_answered → w***@example.org (email)"
    assert str(staff) == "breach_created → layanan@unit-a.go.id (email)"
