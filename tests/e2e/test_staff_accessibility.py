"""axe-core on the staff pages, in both languages: the dashboard, the breach list (with
filters), a breach page with its facts, the inbox with its groups, and the other staff pages
an agency editor reaches."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.outbox import drain
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach
from tests.oversight.test_compensation import publish_charter

pytestmark = pytest.mark.e2e

service = notifications_conftest.service


def _login(page, username: str) -> None:
    page.goto("/en/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/staff/**")


def _check(page, pages: dict[str, str], language: str) -> dict[str, list[dict]]:
    prefix = "" if language == "id" else "/en"
    problems: dict[str, list[dict]] = {}
    for name, path in pages.items():
        response = page.goto(prefix + path)
        assert response is not None
        assert response.status == (400 if "bad" in name else 200), (name, response.status)
        assert "/accounts/login/" not in page.url, name
        assert page.locator("html").get_attribute("lang") == language
        blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
        if blocking:
            problems[f"{name} ({prefix + path})"] = blocking
    return problems


def _login_with_code(page, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto("/en/accounts/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("6-digit code").fill(f"{code:0{device.digits}d}")
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/staff/**")


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_serious_or_critical_axe_violation_on_admin_and_ombudsman_pages(
    page, transactional_db, service, unit_a, agency_a, admin_a, ombudsman, language
):
    breach = late_breach(service)
    drain()
    _login_with_code(page, admin_a)
    slug = agency_a.slug
    problems = _check(
        page,
        {
            "admin dashboard": "/staff/",
            "admin breach list": "/staff/breaches/?sort=unit",
            "admin breach page": f"/staff/breaches/{breach.pk}/",
            "admin inbox": "/staff/inbox/",
            "agency profile": f"/staff/agency/{slug}/profile/",
            "agency units": f"/staff/agency/{slug}/units/",
            "agency members": f"/staff/agency/{slug}/members/",
            "agency api keys": f"/staff/agency/{slug}/api-keys/",
            "agency notification settings": f"/staff/inbox/agency/{slug}/",
        },
        language,
    )
    page.context.clear_cookies()
    _login_with_code(page, ombudsman)
    problems |= _check(
        page,
        {
            "ombudsman breach list": f"/staff/breaches/?service={service.pk}",
            "ombudsman breach page": f"/staff/breaches/{breach.pk}/",
            "ombudsman review desk": "/staff/breaches/queue/?status=all",
        },
        language,
    )
    assert not problems, problems


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_serious_or_critical_axe_violation_on_staff_pages(
    page, transactional_db, service, unit_a, editor_a, language
):
    breach = late_breach(service)
    publish_charter(unit_a, [service])
    drain()  # the in-app rows of the editor's inbox
    _login(page, editor_a.username)
    pages = {
        "dashboard": "/staff/",
        "breach list": "/staff/breaches/",
        "breach list filtered": f"/staff/breaches/?unit={unit_a.pk}&status=not_closed&sort=oldest",
        "breach list bad filter": "/staff/breaches/?age=nope",
        "breach page": f"/staff/breaches/{breach.pk}/",
        "inbox": "/staff/inbox/",
        "inbox group": f"/staff/inbox/?event=breach_created&unit={unit_a.pk}",
        "my notification settings": "/staff/inbox/settings/",
        "deliveries": "/staff/deliveries/",
        "charters": "/staff/charters/",
        "service": f"/staff/standards/services/{service.pk}/",
    }
    assert not (problems := _check(page, pages, language)), problems
