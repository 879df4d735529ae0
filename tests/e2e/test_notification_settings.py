"""The notification settings pages in a real browser: a unit editor's own email settings,
and an agency admin's webhook endpoints (two-factor), in Indonesian and English."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.models import RecipientMode, RecipientPreference, WebhookEndpoint
from oversight.models import BreachKind
from tests.e2e.test_accessibility import BLOCKING, _violations

pytestmark = pytest.mark.e2e

MY_SETTINGS = "/staff/inbox/settings/"
HOOK_URL = "https://sistem.dinas-a.go.id/maklumat/webhook"


def indonesian(msgid: str) -> str:
    """The Indonesian text of a UI string; fails if it has no translation."""
    with translation.override("id"):
        text = gettext(msgid)
    assert text != msgid, f"No Indonesian translation for {msgid!r}"
    return text


def blocking_violations(page) -> list[dict]:
    return [v for v in _violations(page) if v["impact"] in BLOCKING]


def _login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(indonesian("Username or email")).fill(username)
    page.get_by_label(indonesian("Password")).fill("secret-pass-123")
    page.get_by_role("button", name=indonesian("Log in")).click()


def _login_with_code(page, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    _login(page, user.username)
    page.wait_for_url("**/accounts/login/code/**")
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label(indonesian("6-digit code")).fill(f"{code:0{device.digits}d}")
    page.get_by_role("button", name=indonesian("Verify")).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _axe_in_both_languages(page, path: str) -> dict[str, list[dict]]:
    problems: dict[str, list[dict]] = {}
    for language, prefix in (("id", ""), ("en", "/en")):
        response = page.goto(prefix + path)
        assert response is not None and response.status == 200, prefix + path
        assert page.locator("html").get_attribute("lang") == language
        blocking = blocking_violations(page)
        if blocking:
            problems[prefix + path] = blocking
    return problems


def test_an_editor_chooses_the_daily_digest_and_drops_one_kind(page, editor_a, transactional_db):
    _login(page, "editor_a")
    page.goto("/staff/inbox/")
    page.get_by_role("main").get_by_role(
        "link", name=indonesian("My notification settings")
    ).click()
    page.wait_for_url(f"**{MY_SETTINGS}")
    assert page.get_by_role("heading", level=1).inner_text() == indonesian(
        "My notification settings"
    )
    assert "editor_a@example.org" in page.get_by_role("main").inner_text()

    # Nothing chosen yet: one email per breach, every kind.
    digest = page.get_by_label(indonesian("One daily digest"))
    immediate = page.get_by_label(indonesian("One email per new breach"))
    late = page.get_by_label(indonesian("Late delivery"), exact=True)
    assert immediate.is_checked() and not digest.is_checked()
    assert late.is_checked()
    assert not RecipientPreference.objects.exists()

    digest.check()
    late.uncheck()
    page.get_by_role("button", name=indonesian("Save"), exact=True).click()
    page.locator(".messages").wait_for()
    assert page.locator(".messages").inner_text() == indonesian(
        "Your notification settings were saved."
    )

    preference = RecipientPreference.objects.get()
    assert preference.email == "editor_a@example.org"
    assert preference.user == editor_a
    assert preference.mode == RecipientMode.DIGEST
    assert preference.kinds == [k for k in BreachKind.values if k != BreachKind.LATE_DELIVERY]

    # After a reload the page shows the stored choices, not the defaults.
    page.reload()
    assert page.locator(".messages").count() == 0
    assert digest.is_checked() and not immediate.is_checked()
    assert not late.is_checked()
    for kind in BreachKind:
        if kind != BreachKind.LATE_DELIVERY:
            assert page.locator(f'input[name="kinds"][value="{kind.value}"]').is_checked(), kind

    assert _axe_in_both_languages(page, MY_SETTINGS) == {}


def test_an_agency_admin_adds_a_webhook_and_sees_its_secret_once(
    page, admin_a, agency_a, transactional_db
):
    _login_with_code(page, admin_a)
    page.goto(MY_SETTINGS)
    agencies = page.get_by_role("region", name=indonesian("Agency notification settings"))
    agencies.get_by_role("link", name=agency_a.name).click()
    agency_path = f"/staff/inbox/agency/{agency_a.slug}/"
    page.wait_for_url(f"**{agency_path}")
    with translation.override("id"):
        title = gettext("Notification settings of %(agency)s") % {"agency": agency_a.name}
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator("[data-new-secret]").count() == 0

    # Add an endpoint: its secret is shown once.
    form = page.locator("form", has=page.get_by_role("button", name=indonesian("Add endpoint")))
    form.get_by_role("textbox", name="URL", exact=True).fill(HOOK_URL)
    form.get_by_role("button", name=indonesian("Add endpoint")).click()
    shown = page.locator("[data-new-secret]")
    shown.wait_for()
    endpoint = WebhookEndpoint.objects.get(agency=agency_a)
    assert endpoint.url == HOOK_URL and endpoint.is_active
    assert len(endpoint.secret) >= 32
    assert shown.locator("code").inner_text() == endpoint.secret
    assert page.locator(".messages").inner_text() == indonesian("Webhook endpoint added.")
    assert page.locator(f'tr[data-endpoint="{endpoint.pk}"] th').inner_text() == HOOK_URL
    assert blocking_violations(page) == []

    page.reload()
    assert page.locator("[data-new-secret]").count() == 0
    assert endpoint.secret not in page.content()
    assert page.locator(f'tr[data-endpoint="{endpoint.pk}"]').count() == 1

    # A mistyped URL is a field error, in Indonesian, and adds nothing.
    form.get_by_role("textbox", name="URL", exact=True).fill("bukan sebuah alamat")
    form.get_by_role("button", name=indonesian("Add endpoint")).click()
    error = page.locator("#id_url_error")
    error.wait_for()
    assert error.inner_text() == indonesian("Enter a valid URL.")
    assert page.locator(".form-errors").inner_text() == indonesian(
        "Please correct the errors below."
    )
    assert (
        form.get_by_role("textbox", name="URL", exact=True).input_value() == "bukan sebuah alamat"
    )
    assert page.locator("[data-new-secret]").count() == 0
    assert WebhookEndpoint.objects.filter(agency=agency_a).count() == 1
    assert blocking_violations(page) == []

    assert _axe_in_both_languages(page, MY_SETTINGS) == {}
    assert _axe_in_both_languages(page, agency_path) == {}
