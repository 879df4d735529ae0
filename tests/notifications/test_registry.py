"""notifications is a generic outbox: it knows no app above it, and learns how each app's
messages go out from what the app registered (notifications.registry)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps

from notifications import registry
from notifications.channels import Moot, email_for
from notifications.forms import RecipientPreferenceForm
from notifications.models import Notification
from notifications.registry import Email, MessageType
from oversight.models import BreachKind


def test_no_notifications_model_points_at_an_upper_app():
    below = {"notifications", "agencies", "accounts", "core", "contenttypes", "auth"}
    for model in apps.get_app_config("notifications").get_models():
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            if field.concrete and related is not None:
                assert related._meta.app_label in below, (model.__name__, field.name)


def test_the_kinds_a_person_chooses_from_are_the_registered_ones():
    field: Any = RecipientPreferenceForm().fields["kinds"]
    assert list(field.choices) == list(BreachKind.choices)
    assert registry.kind_values() == list(BreachKind.values)


@pytest.fixture
def extra_kind() -> Iterator[None]:
    registry.register_kinds([("slow_answer", "Complaint answered late")])
    yield
    registry._kinds.pop("slow_answer")


def test_a_kind_registered_later_is_offered_and_accepted(extra_kind):
    form = RecipientPreferenceForm(data={"mode": "immediate", "kinds": ["slow_answer"]})
    field: Any = form.fields["kinds"]
    assert ("slow_answer", "Complaint answered late") in list(field.choices)
    assert form.is_valid(), form.errors


def test_a_message_of_an_unregistered_event_fails_for_good(db):
    row = Notification(event="nobody_registered_this", recipient="x@example.org")
    with pytest.raises(Moot):
        email_for(row)


@pytest.fixture
def personal_event() -> Iterator[str]:
    event = "complaint_answered"
    registry.register(
        MessageType(
            event=event,
            render_email=lambda notification, language: Email("s", "t", "<p>h</p>"),
            personal_recipient=True,
        )
    )
    yield event
    registry._types.pop(event)


def test_a_registered_renderer_writes_the_email_and_a_personal_address_is_masked(
    db, personal_event
):
    row = Notification(event=personal_event, recipient="warga@example.org", idempotency_key="k")
    message = email_for(row)
    assert (message.subject, message.body, message.to) == ("s", "t", ["warga@example.org"])
    assert message.extra_headers["X-Maklumat-Notification"] == "k"
    assert row.recipient_display == "w***@example.org"
    assert Notification(event="x", recipient="warga@example.org").recipient_display == (
        "warga@example.org"
    )


def test_every_message_staff_can_receive_has_a_label_in_both_languages() -> None:
    """The inbox groups and the mark-read buttons name each message by its label: a message
    a staff member can receive (not a citizen's personal one) must have one, translated."""
    from django.utils import translation

    from notifications import registry

    staff_events = [
        event for event, found in registry._types.items() if not found.personal_recipient
    ]
    assert {"breach_created", "case_draft_findings", "complaint_received"} <= set(staff_events)
    for event in staff_events:
        with translation.override("en"):
            english = registry.event_label(event)
        with translation.override("id"):
            indonesian = registry.event_label(event)
        assert english != event, f"{event} has no label"
        assert indonesian != english, f"{event}'s label is not translated"
