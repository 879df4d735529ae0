from __future__ import annotations

import base64

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp
from accounts.models import User
from accounts.otp import user_requires_2fa
from agencies.policy import holds_privileged_role
from tests.accounts.conftest import confirmed_device_for, en, login_verified, totp_code

PASSWORD = "secret-pass-123"  # the factories' password


def _is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _is_verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# --- Who must use two-factor ------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "required"),
    [
        ("anonymous", False),
        ("editor_a", False),
        ("approver_a", False),
        ("editor_b", False),
        ("admin_a", True),
        ("ombudsman", True),
        ("superuser", True),
    ],
)
def test_user_requires_2fa(cast, who, required):
    user = cast[who] or AnonymousUser()
    assert user_requires_2fa(user) is required


def test_who_needs_a_second_factor_beyond_superusers_is_registered_by_the_apps_above(
    monkeypatch, cast
):
    # agencies registers its privileged roles when the app is ready; accounts imports no agencies.
    assert holds_privileged_role in otp._TWO_FACTOR_RULES
    monkeypatch.setattr(otp, "_TWO_FACTOR_RULES", [])
    fresh = {who: User.objects.get(pk=cast[who].pk) for who in ("editor_a", "admin_a", "superuser")}
    assert [user_requires_2fa(fresh[who]) for who in fresh] == [False, False, True]
    editors_too = lambda user: user.username == cast["editor_a"].username  # noqa: E731
    otp.register_two_factor_rule(holds_privileged_role)
    otp.register_two_factor_rule(editors_too)
    otp.register_two_factor_rule(editors_too)
    assert [holds_privileged_role, editors_too] == otp._TWO_FACTOR_RULES
    fresh = {
        who: User.objects.get(pk=cast[who].pk) for who in ("editor_a", "approver_a", "admin_a")
    }
    assert [user_requires_2fa(fresh[who]) for who in fresh] == [True, False, True]


# --- Enrollment ----------------------------------------------------------------
def test_enrollment_page_shows_a_server_side_qr_code_and_the_secret(client, editor_a):
    client.force_login(editor_a)
    response = client.get(en("accounts:otp_setup"))
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=editor_a)
    assert device.confirmed is False
    body = response.content.decode()
    assert "<svg" in body
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:4] + " " + secret[4:8] in body
    # Reloading keeps the same pending device (the scanned QR code stays valid).
    client.get(en("accounts:otp_setup"))
    assert TOTPDevice.objects.filter(user=editor_a).count() == 1


def test_enrollment_requires_login(client, db):
    response = client.get(en("accounts:otp_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:login"))


def test_enrollment_confirmed_with_the_current_code(client, editor_a):
    client.force_login(editor_a)
    client.get(en("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=editor_a)
    response = client.post(en("accounts:otp_setup"), {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert _is_verified(client)


def test_enrollment_refuses_a_wrong_code(client, editor_a):
    client.force_login(editor_a)
    client.get(en("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=editor_a)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(en("accounts:otp_setup"), {"code": wrong})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    device.refresh_from_db()
    assert device.confirmed is False
    assert not _is_verified(client)


def test_enrollment_refuses_a_malformed_code(client, editor_a):
    client.force_login(editor_a)
    response = client.post(en("accounts:otp_setup"), {"code": "12ab"})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors


def test_enrolled_user_logs_in_with_password_then_code(client, editor_a):
    client.force_login(editor_a)
    client.get(en("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=editor_a)
    assert client.post(en("accounts:otp_setup"), {"code": totp_code(device)}).status_code == 302
    client.logout()

    response = client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:login_code"))
    assert not _is_logged_in(client), "the password alone must not log in"
    # The code used for enrollment cannot be replayed: use the next period's code.
    device.refresh_from_db()
    response = client.post(en("accounts:login_code"), {"code": totp_code(device, 1)})
    assert response.status_code == 302
    assert response["Location"] == en("staff:dashboard")
    assert client.session["_auth_user_id"] == str(editor_a.pk)
    assert _is_verified(client)


def test_code_step_refuses_a_wrong_code(client, editor_a):
    device = confirmed_device_for(editor_a)
    client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    wrong = f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"
    response = client.post(en("accounts:login_code"), {"code": wrong})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not _is_logged_in(client)


def test_code_step_replayed_code_is_refused(client, editor_a):
    device = confirmed_device_for(editor_a)
    code = totp_code(device)
    client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    assert client.post(en("accounts:login_code"), {"code": code}).status_code == 302
    client.logout()
    client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    response = client.post(en("accounts:login_code"), {"code": code})
    assert response.status_code == 200
    assert not _is_logged_in(client)


def test_code_step_without_a_password_step_goes_back_to_login(client, editor_a):
    response = client.get(en("accounts:login_code"))
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:login"))


# --- Enforcement for privileged staff ---------------------------------------------
def test_privileged_login_without_device_goes_to_enrollment(client, admin_a):
    response = client.post(en("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:otp_setup"))


@pytest.mark.parametrize("who", ["admin_a", "ombudsman", "superuser"])
def test_privileged_user_without_device_is_redirected_to_enrollment(client, cast, agency_a, who):
    client.force_login(cast[who])
    url = en("agency_admin:members", agency_slug=agency_a.slug)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:otp_setup"))
    assert "next=" in response["Location"]


def test_privileged_user_with_device_but_unverified_session_goes_to_code_step(
    client, admin_a, agency_a
):
    device = confirmed_device_for(admin_a)
    client.force_login(admin_a)  # e.g. logged in before enrolling elsewhere
    url = en("agency_admin:members", agency_slug=agency_a.slug)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:login_code"))
    code_page = response["Location"]
    response = client.post(code_page, {"code": totp_code(device), "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get(url).status_code == 200


def test_enrollment_brings_a_privileged_user_back_to_the_page(client, admin_a, agency_a):
    client.force_login(admin_a)
    url = en("agency_admin:members", agency_slug=agency_a.slug)
    setup = client.get(url)["Location"]
    assert client.get(setup).status_code == 200
    device = TOTPDevice.objects.get(user=admin_a)
    response = client.post(setup, {"code": totp_code(device), "next": url})
    assert response["Location"] == url
    assert client.get(url).status_code == 200


# --- Disabling ---------------------------------------------------------------------
def test_disable_requires_a_current_code(client, editor_a):
    device = login_verified(client, editor_a)
    wrong = f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"
    response = client.post(en("accounts:otp_disable"), {"code": wrong})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=editor_a).exists()


def test_disable_with_a_current_code(client, editor_a):
    device = login_verified(client, editor_a)
    response = client.post(en("accounts:otp_disable"), {"code": totp_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=editor_a).exists()


def test_disable_is_post_only_and_csrf_protected(editor_a):
    strict = Client(enforce_csrf_checks=True)
    device = login_verified(strict, editor_a)
    assert strict.get(en("accounts:otp_disable")).status_code == 405
    response = strict.post(en("accounts:otp_disable"), {"code": totp_code(device)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=editor_a).exists()


def test_switching_to_an_enrolled_account_logs_the_previous_one_out(client, editor_a, approver_a):
    device = confirmed_device_for(approver_a)
    client.force_login(editor_a)
    response = client.post(en("accounts:login"), {"username": "approver_a", "password": PASSWORD})
    assert response["Location"].startswith(en("accounts:login_code"))
    assert not _is_logged_in(client)
    client.post(en("accounts:login_code"), {"code": totp_code(device)})
    assert client.session["_auth_user_id"] == str(approver_a.pk)


def test_pending_password_step_expires(client, editor_a):
    from accounts.views.public import PENDING_LOGIN_MAX_AGE, PENDING_LOGIN_SESSION_KEY

    confirmed_device_for(editor_a)
    client.post(en("accounts:login"), {"username": "editor_a", "password": PASSWORD})
    session = client.session
    pending = session[PENDING_LOGIN_SESSION_KEY]
    pending["at"] -= PENDING_LOGIN_MAX_AGE + 1
    session[PENDING_LOGIN_SESSION_KEY] = pending
    session.save()
    response = client.get(en("accounts:login_code"))
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:login"))
