"""The drainer's fast path (compiled templates, MIME once per body) equals the per-message
reference rendering, for every kind of message in both languages."""

from __future__ import annotations

import copy
import functools
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from notifications import registry
from notifications.compose import Composer
from notifications.keys import idempotency_key
from notifications.models import EmailAddressHealth, Notification
from notifications.registry import Email
from oversight.followers import CITIZEN_EVENT, FOLLOW_CONFIRM_EVENT
from oversight.models import Breach, BreachEvent, BreachKind, CitizenFollower
from oversight.notices import BREACH_CREATED, BREACH_ESCALATED, EXPLANATION_ASKED
from tests.factories import UserFactory
from tests.notifications.compose_check import (
    assert_same_email,
    django_bytes,
    fast_bytes,
    parsed,
)
from tests.notifications.conftest import late_breach

LANGUAGES = ["id", "en"]
_pk = iter(range(900_000, 1_000_000))


def _row(event: str, subject: Any, *, language: str, level: int = 0, **fields: Any) -> Notification:
    """An unsaved recipient row (rendering reads only its fields and its subject)."""
    recipient = fields.pop("recipient", "layanan@unit-a.go.id")
    row = Notification(
        pk=next(_pk),
        event=event,
        channel="email",
        recipient=recipient,
        level=level,
        user=UserFactory.build(preferred_language=language, email=recipient),
        idempotency_key=idempotency_key(
            event=event, subject=f"s{subject.pk}", recipient=recipient, channel="email", level=level
        ),
        **fields,
    )
    row.subject = subject
    return row


def _shapes(breach: Breach) -> list[Breach]:
    """The breach as found, and variants of every shape the template knows: no service
    nor request, no measured value, no promised value, other kinds and statuses, names
    that need escaping and names in other scripts."""
    bare = copy.copy(breach)
    bare.service = None
    bare.delivery = None
    bare.measured_value = None
    bare.promised_value = None
    bare.kind = BreachKind.MISSING_CHARTER
    unpromised = copy.copy(breach)
    unpromised.promised_value = None
    unpromised.measured_value = Decimal("1234.50")
    unpromised.kind = BreachKind.OVERCHARGE
    unpromised.status = "acknowledged"
    odd = copy.copy(breach)
    odd.unit = copy.copy(breach.unit)
    odd.unit.name = 'Dinas <Kependudukan> & "Catatan" Sipil — Ünit 東'
    odd.kind = "no_such_kind"  # a label the choices do not know: shown as stored
    return [breach, bare, unpromised, odd]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", [BREACH_CREATED, BREACH_ESCALATED])
def test_breach_emails_compiled_once_equal_the_full_rendering(service, event, language):
    breach = Breach.objects.select_related("agency", "unit", "service", "delivery").get(
        pk=late_breach(service).pk
    )
    composer = Composer()
    for level in range(4):
        for variant in _shapes(breach):
            for recipient in ("layanan@unit-a.go.id", "pengaduan@unit-a.go.id"):
                row = _row(event, variant, language=language, level=level, recipient=recipient)
                assert_same_email(row, composer)
    # Every message was filled into a compiled template; one rendering per shape.
    assert composer.rendered_count == 0
    assert composer.compiled_count == 4 * 4 * 2
    assert len(composer.templates) == 4 * 2  # the full shape, and the bare one


def test_the_signed_link_is_each_recipients_own(service):
    breach = late_breach(service)
    composer = Composer()
    a = _row(BREACH_CREATED, breach, language="id", recipient="a@unit-a.go.id")
    b = _row(BREACH_CREATED, breach, language="id", recipient="b@unit-a.go.id")
    email_a, _ = composer.email(a)
    email_b, _ = composer.email(b)
    assert email_a.subject == email_b.subject and email_a.text != email_b.text
    assert len(composer.templates) == 1


def test_a_value_with_a_line_break_is_rendered_in_full(service):
    breach = Breach.objects.select_related("unit").get(pk=late_breach(service).pk)
    breach.unit.name = "Dinas\nDua Baris"
    composer = Composer()
    assert_same_email(_row(BREACH_CREATED, breach, language="id"), composer)
    assert composer.rendered_count == 1 and composer.compiled_count == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_other_oversight_and_outbox_message_equals_the_reference(service, language, admin_a):
    """Explanation asked, the citizen's answer and follow confirmation, the survey
    invitation, the disabled-address notice and the digest: rendered in full, MIME built
    by the fast path."""
    from feedback.invitations import SURVEY_INVITE

    breach = late_breach(service)
    assert breach.delivery is not None
    now = timezone.now()
    asked = BreachEvent.objects.create(
        breach=breach,
        kind="explanation_asked",
        text="Mengapa terlambat?\nJelaskan.",
        created_at=now,
    )
    follower = CitizenFollower.objects.create(
        delivery=breach.delivery, email="warga@example.org", confirmed_at=now
    )
    unconfirmed = CitizenFollower.objects.create(delivery=breach.delivery, email="baru@example.org")
    answer = BreachEvent.objects.create(
        breach=breach, kind="explained", text="Sudah diperbaiki.", created_at=now
    )
    health = EmailAddressHealth.objects.create(
        email="mati@unit-a.go.id", consecutive_permanent_failures=5, disabled_at=now
    )
    digest = Notification.objects.create(
        event="digest",
        channel="email",
        recipient="layanan@unit-a.go.id",
        unit=breach.unit,
        idempotency_key=f"digest-{language}",
    )
    Notification.objects.create(
        event=BREACH_CREATED,
        channel="digest",
        recipient="layanan@unit-a.go.id",
        subject=breach,
        unit=breach.unit,
        digest=digest,
        idempotency_key=f"held-{language}",
    )
    rows = [
        _row(EXPLANATION_ASKED, breach, language=language, subject_event_id=asked.pk),
        _row(
            CITIZEN_EVENT,
            breach,
            language=language,
            recipient="warga@example.org",
            subject_event_id=answer.pk,
        ),
        _row(FOLLOW_CONFIRM_EVENT, unconfirmed, language=language, recipient="baru@example.org"),
        _row(SURVEY_INVITE, follower, language=language, recipient="warga@example.org"),
        _row("email_disabled", health, language=language, unit=breach.unit),
    ]
    digest.user = UserFactory.build(preferred_language=language)
    rows.append(digest)
    composer = Composer()
    for row in rows:
        assert_same_email(row, composer)
    assert composer.rendered_count == len(rows)


def test_every_registered_message_type_is_covered():
    """A new kind must be added to these tests (here, or to the app's own compose test)."""
    covered_here = {
        BREACH_CREATED,
        BREACH_ESCALATED,
        EXPLANATION_ASKED,
        CITIZEN_EVENT,
        FOLLOW_CONFIRM_EVENT,
        "request_completed_survey",
        "email_disabled",
        "webhook_disabled",
        "digest",
    }
    from cases.notices import LABELS
    from feedback.complaints.notices import COMPLAINT_CONFIRM, COMPLAINT_UPDATE, STAFF_EVENTS

    covered_elsewhere = {*LABELS, COMPLAINT_CONFIRM, COMPLAINT_UPDATE, *STAFF_EVENTS}
    assert set(registry._types) <= covered_here | covered_elsewhere


# --- MIME once per body: the edge cases ---------------------------------------------------


def _email_row(**fields: Any) -> Notification:
    health = EmailAddressHealth(pk=1, email="x@example.org")
    return _row("email_disabled", health, language="id", **fields)


MIME_CASES = {
    "ascii": Email(subject="Plain", text="one\ntwo\n", html="<p>one</p>"),
    "non-ascii": Email(subject="Janji — Ünit 東", text="é\r\nz", html="<p>東</p>\n"),
    "long subject": Email(subject=("kata " * 60).strip(), text="t", html="h"),
    "header": Email(
        subject="s", text="t", html="h", headers={"List-Unsubscribe": "<https://x.test/u/1>"}
    ),
    "dot lines": Email(subject="s", text=".\n..\nFrom here\n", html=".<p>x</p>"),
    "empty": Email(subject="", text="", html=""),
}


@pytest.mark.parametrize("name", list(MIME_CASES))
def test_mime_built_once_per_body_equals_djangos(db, name):
    from notifications.channels import django_message, message_id

    row = _email_row()
    rendered = MIME_CASES[name]
    composer = Composer()
    fast = composer.mime(row, rendered, "id", message_id=message_id(row.idempotency_key), date="x")
    reference = django_bytes(django_message(row, rendered, "id"))
    assert fast is not None
    assert parsed(fast) == parsed(reference)
    # The body is encoded once, the headers per recipient.
    other = _email_row(recipient="lain@example.org")
    again = composer.mime(
        other, rendered, "id", message_id=message_id(other.idempotency_key), date="x"
    )
    assert again is not None and len(composer.parts) == 1
    assert parsed(again)["parts"] == parsed(fast)["parts"]


@pytest.mark.parametrize(
    ("rendered", "recipient"),
    [
        (Email(subject="s", text="x" * 1000, html="h"), "a@example.org"),  # Django: QP
        (Email(subject="s", text="t", html="h"), "wärga@example.org"),  # non-ASCII address
        (Email(subject="s", text="t", html="h", headers={"X-Odd": "a\nb"}), "a@example.org"),
        (Email(subject="s", text="t", html="h", headers={"To": "b@x.test"}), "a@example.org"),
    ],
)
def test_what_the_fast_mime_cannot_vouch_for_goes_to_django(db, rendered, recipient):
    row = _email_row(recipient=recipient)
    assert Composer().mime(row, rendered, "id", message_id="<m@x>", date="x") is None


def test_an_unknown_kind_is_moot(db):
    from notifications.channels import Moot

    row = _email_row()
    row.event = "no_such_event"
    with pytest.raises(Moot):
        fast_bytes(Composer(), row)


def test_the_date_and_message_id_are_per_send(db):
    row = _email_row()
    composer = Composer()
    rendered = MIME_CASES["ascii"]
    first = composer.mime(row, rendered, "id", message_id="<a@x>", date="Mon, 7 Dec 2026")
    assert first is not None and b"Message-ID: <a@x>\r\n" in first
    assert b"Date: Mon, 7 Dec 2026\r\n" in first


def test_the_drainers_batch_loads_in_fixed_queries_and_renders_as_the_reference(service, settings):
    """The drainer loads a claimed batch with its subjects as their app registered for
    sending (shared agencies and units once per batch, only the delivery's reference):
    as many queries for 8 rows as for 2, none more while rendering, and the same emails
    as rows loaded in full."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.channels import email_for
    from notifications.outbox.drain import _claim, _claimed_rows
    from notifications.outbox.fanout import expand_fanouts

    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}), "DIGEST_BURST_AT": 0}
    counts: list[int] = []
    for size in (1, 1, 4):  # the first also reads the content types (once per process)
        for i in range(size):
            late_breach(service, ref=f"late-{len(counts)}-{i}")
        while expand_fanouts(now=timezone.now(), limit=100):
            pass
        claimed = _claim(now=timezone.now(), limit=100)
        assert len(claimed) == 2 * size
        with CaptureQueriesContext(connection) as queries:
            rows = _claimed_rows(claimed)
        counts.append(len(queries))
        full = {
            row.pk: row
            for row in Notification.objects.filter(pk__in=[pk for pk, _ in claimed])
            .select_related("user", "unit__agency")
            .prefetch_related(registry.subject_prefetch())
        }
        composer = Composer()
        # The signed links carry the second they were signed in: the same for both.
        clock = SimpleNamespace(time=functools.partial(float, time.time()))
        with mock.patch("django.core.signing.time", clock):
            with CaptureQueriesContext(connection) as queries:
                emails = [composer.email(row) for row in rows]
            assert len(queries) == 0
            references = [email_for(full[row.pk]) for row in rows]
        for (email, _language), reference in zip(emails, references, strict=True):
            assert email.subject == reference.subject
            assert email.text == reference.body
            assert email.html == reference.alternatives[0][0]
    assert counts[1] == counts[2]
