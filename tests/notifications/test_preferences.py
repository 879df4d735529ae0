"""Per-person recipient preferences (digest or not, which kinds), and the settings pages:
a person's own, and the agency admins' (webhook endpoints, per-unit digests)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from agencies.models import Role
from notifications.models import (
    Notification,
    NotificationStatus,
    RecipientPreference,
    UnitNotificationPreference,
    WebhookEndpoint,
    WebhookFailure,
)
from notifications.outbox import digest_collect, drain, expand_fanouts
from oversight.escalation import escalate
from oversight.models import BreachKind
from tests.accounts.conftest import en, login_verified
from tests.delivery.conftest import wib
from tests.factories import AgencyFactory, MembershipFactory, UnitFactory, UserFactory
from tests.notifications.conftest import late_breach

LAYANAN = "layanan@unit-a.go.id"
PENGADUAN = "pengaduan@unit-a.go.id"
HEAD = "kepala@unit-a.go.id"
DETECTED_FRIDAY = wib(2026, 4, 10, 10)


def _checked(html: str) -> set[str]:
    """The name=value of every checked input."""
    found = set()
    for tag in re.findall(r"<input[^>]*>", html):
        if re.search(r"\schecked[\s>/]", tag):
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            found.add(f"{name.group(1) if name else ''}={value.group(1) if value else 'on'}")
    return found


def _text(message: Any) -> str:
    return str(
        next(
            p.get_payload(decode=True).decode()
            for p in message.walk()
            if p.get_content_type() == "text/plain"
        )
    )


# --- Delivery: the real sweep, the real drainer, a real SMTP server --------------------------


def test_a_person_on_digest_gets_the_breach_in_the_next_digest_not_at_once(smtp, service, unit_a):
    # Stored in another case than the unit's contact list: addresses match case-insensitively.
    RecipientPreference.objects.create(email="Layanan@Unit-A.go.id", mode="digest")
    late_breach(service, "one")
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN]  # the other contact: at once
    held = Notification.objects.get(recipient=LAYANAN)
    assert held.channel == "digest" and held.status == NotificationStatus.PENDING

    assert digest_collect() == 1
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN, LAYANAN]
    digest = smtp.messages[1]
    assert "one" in _text(digest) and "/staff/breaches/acknowledge/" in _text(digest)
    held.refresh_from_db()
    assert held.status == NotificationStatus.EXPANDED and held.digest is not None


def test_a_persons_choice_wins_over_the_units_digest_default(smtp, service, unit_a):
    UnitNotificationPreference.objects.create(unit=unit_a, digest=True)
    RecipientPreference.objects.create(email=PENGADUAN, mode="immediate")
    late_breach(service, "one")
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN]
    assert Notification.objects.get(recipient=LAYANAN).channel == "digest"  # the unit's default


def test_a_person_who_excluded_the_kind_gets_nothing_while_another_contact_does(
    smtp, service, unit_a, agency_a
):
    person: Any = UserFactory(email=LAYANAN)
    MembershipFactory(user=person, agency=agency_a, role=Role.EDITOR)
    RecipientPreference.objects.create(
        email=LAYANAN, user=person, mode="immediate", kinds=[BreachKind.OVERCHARGE]
    )
    breach = late_breach(service, "one")
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN]
    assert not Notification.objects.filter(recipient__iexact=LAYANAN).exists()
    assert digest_collect() == 0
    # The in-app inbox is not filtered.
    assert Notification.objects.filter(channel="inapp", user=person, breach=breach).exists()
    fanout = Notification.objects.get(breach=breach, recipient="", channel="email")
    assert fanout.status == NotificationStatus.EXPANDED

    # A preference that includes the kind gets it.
    RecipientPreference.objects.filter(email=LAYANAN).update(
        kinds=[BreachKind.OVERCHARGE, BreachKind.LATE_DELIVERY]
    )
    late_breach(service, "two")
    drain()
    assert sorted(m["To"] for m in smtp.messages[1:]) == sorted([LAYANAN, PENGADUAN])


def test_nobody_can_opt_out_of_escalations(smtp, service, unit_a):
    for email in (HEAD, LAYANAN, PENGADUAN):
        RecipientPreference.objects.create(
            email=email, mode="digest", kinds=[BreachKind.OVERCHARGE]
        )
    breach = late_breach(service, swept_at=DETECTED_FRIDAY)
    drain()
    assert smtp.messages == []  # level 0: both contacts excluded late deliveries
    assert escalate(now=wib(2026, 4, 15, 8, 0)) == {1: 1, 2: 0, 3: 0}
    drain()
    assert [m["To"] for m in smtp.messages] == [HEAD]
    row = Notification.objects.get(breach=breach, level=1, recipient=HEAD)
    assert row.channel == "email" and row.status == NotificationStatus.SENT
    assert digest_collect() == 0


def test_switching_mode_before_a_re_expansion_sends_nothing_twice(smtp, service, unit_a):
    RecipientPreference.objects.create(email=LAYANAN, mode="digest")
    breach = late_breach(service, "one")
    drain()
    recipient_rows = Notification.objects.filter(breach=breach, channel__in=["email", "digest"])
    before = set(recipient_rows.exclude(recipient="").values_list("pk", flat=True))
    RecipientPreference.objects.filter(email=LAYANAN).update(mode="immediate")
    RecipientPreference.objects.create(email=PENGADUAN, mode="digest")
    # The fan-out row is expanded again (e.g. resent): every recipient already has a row.
    Notification.objects.filter(breach=breach, recipient="").update(
        status=NotificationStatus.PENDING
    )
    expand_fanouts()
    assert set(recipient_rows.exclude(recipient="").values_list("pk", flat=True)) == before
    drain()
    assert [m["To"] for m in smtp.messages] == [PENGADUAN]


def test_preferences_are_resolved_in_one_query_per_fan_out(service, unit_a):
    def expand_one(ref: str) -> int:
        late_breach(service, ref)
        with CaptureQueriesContext(connection) as queries:
            assert expand_fanouts() == 1
        assert expand_fanouts() == 0
        return len(queries)

    RecipientPreference.objects.create(email=LAYANAN, mode="digest")
    few = expand_one("one")
    contacts = [f"orang{i}@unit-a.go.id" for i in range(8)]
    unit_a.contact_emails = [*contacts, "tanpa@unit-a.go.id"]  # one follows the unit's default
    unit_a.save()
    for i, email in enumerate(contacts):
        RecipientPreference.objects.create(
            email=email,
            mode="digest" if i % 2 else "immediate",
            kinds=[] if i % 3 else [BreachKind.OVERCHARGE],
        )
    many = expand_one("two")
    assert many == few
    rows = Notification.objects.filter(breach__delivery__reference="two").exclude(recipient="")
    assert set(rows.filter(channel="digest").values_list("recipient", flat=True)) == {
        contacts[i] for i in (1, 5, 7)
    }
    assert set(rows.filter(channel="email").values_list("recipient", flat=True)) == {
        *(contacts[i] for i in (2, 4)),
        "tanpa@unit-a.go.id",
    }  # 0, 3 and 6 excluded late deliveries


# --- My notification settings --------------------------------------------------------------


def test_my_settings_save_the_users_own_preference(client, editor_a):
    client.force_login(editor_a)
    response = client.get(en("notifications:my_settings"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    for kind in BreachKind:
        assert f'value="{kind.value}"' in html and str(kind.label) in html
    assert _checked(html) == {"mode=immediate", *(f"kinds={k}" for k in BreachKind.values)}

    response = client.post(
        en("notifications:my_settings"),
        {"mode": "digest", "kinds": [BreachKind.LATE_DELIVERY, BreachKind.OVERCHARGE]},
    )
    assert response.status_code == 302
    preference = RecipientPreference.objects.get(email__iexact=editor_a.email)
    assert preference.user == editor_a and preference.mode == "digest"
    assert preference.kinds == [BreachKind.LATE_DELIVERY, BreachKind.OVERCHARGE]
    html = client.get(en("notifications:my_settings")).content.decode()
    assert _checked(html) == {"mode=digest", "kinds=late_delivery", "kinds=overcharge"}

    # Every kind is stored as "all kinds"; still one row per address.
    client.post(en("notifications:my_settings"), {"mode": "immediate", "kinds": BreachKind.values})
    preference = RecipientPreference.objects.get(email__iexact=editor_a.email)
    assert preference.kinds == [] and preference.mode == "immediate"
    assert RecipientPreference.objects.count() == 1

    # Bad input: field errors, nothing saved.
    response = client.post(en("notifications:my_settings"), {"mode": "sometimes", "kinds": []})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"mode", "kinds"}
    assert "Choose at least one kind of breach." in response.content.decode()
    assert RecipientPreference.objects.get().mode == "immediate"


def test_the_inbox_links_to_my_settings_which_need_a_login(client, editor_a):
    response = client.get(en("notifications:my_settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(editor_a)
    html = client.get(en("notifications:inbox")).content.decode()
    assert f'href="{en("notifications:my_settings")}"' in html


def test_my_settings_list_the_agencies_the_user_manages(client, admin_a, agency_a):
    login_verified(client, admin_a)
    html = client.get(en("notifications:my_settings")).content.decode()
    assert en("notifications:agency_settings", agency_slug=agency_a.slug) in html


# --- Agency notification settings -----------------------------------------------------------


def test_an_agency_admin_manages_webhook_endpoints(client, admin_a, agency_a, agency_b):
    other = WebhookEndpoint.objects.create(
        agency=agency_b, url="https://b.example.org/hook", secret="b-secret-never-shown"
    )
    login_verified(client, admin_a)
    page = en("notifications:agency_settings", agency_slug=agency_a.slug)
    response = client.get(page)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert other.url not in html and other.secret not in html
    assert html.count("<form") == html.count('name="csrfmiddlewaretoken"')

    response = client.post(
        en("notifications:webhook_add", agency_slug=agency_a.slug),
        {"url": "https://sistem.dinas-a.go.id/maklumat"},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(agency=agency_a)
    assert endpoint.is_active and len(endpoint.secret) >= 40
    html = client.get(page).content.decode()
    assert endpoint.secret in html and "data-new-secret" in html  # shown once...
    html = client.get(page).content.decode()
    assert endpoint.url in html and endpoint.secret not in html  # ...never again
    assert "data-new-secret" not in html

    # The same URL twice is a field error.
    response = client.post(
        en("notifications:webhook_add", agency_slug=agency_a.slug),
        {"url": "https://sistem.dinas-a.go.id/maklumat"},
    )
    assert response.status_code == 400
    assert "already has an endpoint" in response.context["add_form"].errors["url"][0]

    # Edit: a new URL, switched off; the secret is not on the page.
    edit = en("notifications:webhook_edit", agency_slug=agency_a.slug, pk=endpoint.pk)
    response = client.get(edit)
    assert response.status_code == 200 and endpoint.secret not in response.content.decode()
    response = client.post(edit, {"url": "https://baru.dinas-a.go.id/hook"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://baru.dinas-a.go.id/hook" and not endpoint.is_active

    # Disabled after failures, then enabled again: the count starts over.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_permanent_failures=5,
        last_error=WebhookFailure.HTTP_4XX,
        disabled_at=wib(2026, 4, 1),
    )
    html = client.get(page).content.decode()
    assert "HTTP 4xx answer" in html  # the failure class, in the page's language
    assert en("notifications:webhook_enable", agency_slug=agency_a.slug, pk=endpoint.pk) in html
    response = client.post(
        en("notifications:webhook_enable", agency_slug=agency_a.slug, pk=endpoint.pk)
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_permanent_failures == 0
    assert endpoint.disabled_at is None

    # Delete: a confirmation page, then the POST.
    delete = en("notifications:webhook_delete", agency_slug=agency_a.slug, pk=endpoint.pk)
    assert client.get(delete).status_code == 200
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert client.post(delete).status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    # Another agency's endpoint is not found through this agency's URLs.
    assert (
        client.post(
            en("notifications:webhook_delete", agency_slug=agency_a.slug, pk=other.pk)
        ).status_code
        == 404
    )
    assert WebhookEndpoint.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize(
    "bad", ["bukan alamat", "ftp://files.example.org/x", "javascript:alert(1)"]
)
def test_a_bad_webhook_url_is_a_field_error_in_indonesian(client, admin_a, agency_a, bad):
    login_verified(client, admin_a)
    # The default language (Indonesian) has no URL prefix.
    response = client.post(reverse("notifications:webhook_add", args=[agency_a.slug]), {"url": bad})
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override("id"):
        indonesian = gettext("Enter a valid URL.")
    assert indonesian != "Enter a valid URL."  # Django's own catalogue
    assert 'class="field-error"' in html and html.count(indonesian) == 1
    assert not WebhookEndpoint.objects.exists()

    endpoint = WebhookEndpoint.objects.create(
        agency=agency_a, url="https://ok.example.org/", secret="s"
    )
    response = client.post(
        reverse("notifications:webhook_edit", args=[agency_a.slug, endpoint.pk]),
        {"url": bad, "is_active": "on"},
    )
    assert response.status_code == 400
    assert indonesian in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://ok.example.org/"


def test_an_agency_admin_sets_the_daily_digest_per_unit(client, admin_a, agency_a, unit_a):
    other_unit: Any = UnitFactory(agency=agency_a, slug="unit-lain", name="Unit Lain")
    UnitFactory(agency=agency_a, slug="tutup", name="Unit Tutup", is_active=False)
    foreign: Any = UnitFactory(agency=AgencyFactory(slug="dinas-c"), slug="asing")
    login_verified(client, admin_a)
    html = client.get(en("notifications:agency_settings", agency_slug=agency_a.slug)).content
    assert f'name="unit_{unit_a.pk}"'.encode() in html
    assert f'name="unit_{other_unit.pk}"'.encode() in html
    assert b"Unit Tutup" not in html

    digests = en("notifications:unit_digests", agency_slug=agency_a.slug)
    response = client.post(digests, {f"unit_{unit_a.pk}": "on", f"unit_{foreign.pk}": "on"})
    assert response.status_code == 302
    assert dict(UnitNotificationPreference.objects.values_list("unit_id", "digest")) == {
        unit_a.pk: True,
        other_unit.pk: False,
    }
    html = client.get(en("notifications:agency_settings", agency_slug=agency_a.slug)).content
    assert {c for c in _checked(html.decode()) if c.startswith("unit_")} == {f"unit_{unit_a.pk}=on"}

    client.post(digests, {f"unit_{other_unit.pk}": "on"})
    assert dict(UnitNotificationPreference.objects.values_list("unit_id", "digest")) == {
        unit_a.pk: False,
        other_unit.pk: True,
    }


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = UserFactory(username="admin_b")
    MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


PAGES = [
    ("get", "notifications:agency_settings", False, {}),
    ("post", "notifications:webhook_add", False, {"url": "https://x.example.org/"}),
    ("get", "notifications:webhook_edit", True, {}),
    ("post", "notifications:webhook_edit", True, {"url": "https://y.example.org/"}),
    ("post", "notifications:webhook_enable", True, {}),
    ("get", "notifications:webhook_delete", True, {}),
    ("post", "notifications:webhook_delete", True, {}),
    ("post", "notifications:unit_digests", False, {}),
]
EXPECTED = {"admin_a": {200, 302}, "editor_a": {403}, "ombudsman": {403}, "admin_b": {404}}


@pytest.mark.parametrize(("method", "name", "with_pk", "data"), PAGES)
@pytest.mark.parametrize("who", ["anonymous", "admin_a", "editor_a", "ombudsman", "admin_b"])
def test_agency_settings_permission_matrix(
    client, cast, admin_b, agency_a, unit_a, method, name, with_pk, data, who
):
    endpoint = WebhookEndpoint.objects.create(
        agency=agency_a, url="https://a.example.org/", secret="s", is_active=False
    )
    kwargs: dict[str, Any] = {"agency_slug": agency_a.slug}
    if with_pk:
        kwargs["pk"] = endpoint.pk
    user = admin_b if who == "admin_b" else cast[who]
    if user is not None:
        login_verified(client, user)
    response = getattr(client, method)(en(name, **kwargs), data)
    if user is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code in EXPECTED[who]
    if who != "admin_a":
        endpoint.refresh_from_db()  # nothing changed, nothing deleted
        assert endpoint.url == "https://a.example.org/" and not endpoint.is_active
        assert WebhookEndpoint.objects.count() == 1
        assert not UnitNotificationPreference.objects.exists()
