"""Writes for staff accounts: account creation and the TOTP device life cycle.

TOTP checks are deliberately not wrapped in a transaction that a refusal would
roll back: django-otp records failed attempts (its throttling) and the last
used time step (no replay) on the device row, and both must stick.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.otp import confirmed_device
from core.errors import ApplicationError

DEVICE_NAME = "Authenticator app"


def _check_token(device: TOTPDevice, token: str) -> None:
    """Verify a code against a device or raise an ApplicationError on the `code` field."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ApplicationError(
            _("Too many wrong codes. Wait a moment, then enter a new code."),
            code="throttled",
            field="code",
        )
    if not device.verify_token(token.strip().replace(" ", "")):
        raise ApplicationError(_("This code is not valid."), code="invalid_code", field="code")


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a staff account (no roles: memberships are granted separately)."""
    username = username.strip()
    email = email.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            _("This username is already taken."), code="duplicate", field="username"
        )
    if email and User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(
            _("An account with this email already exists."), code="duplicate", field="email"
        )
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def totp_device_start(*, user: Any) -> TOTPDevice:
    """The unconfirmed device to enroll (the same one on reload, so the QR code stays put)."""
    if confirmed_device(user) is not None:
        raise ApplicationError(
            _("Two-factor authentication is already set up."), code="already_enabled"
        )
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, user: Any, token: str) -> TOTPDevice:
    """Confirm the pending device with a first code; the user then has exactly one device."""
    if confirmed_device(user) is not None:
        raise ApplicationError(
            _("Two-factor authentication is already set up."), code="already_enabled"
        )
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise ApplicationError(
            _("Start the setup again: no pending authenticator was found."), code="no_device"
        )
    _check_token(device, token)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device


def totp_verify(*, user: Any, token: str) -> TOTPDevice:
    """Check a login code against the user's confirmed device; return the device."""
    device = confirmed_device(user)
    if device is None:
        raise ApplicationError(
            _("Two-factor authentication is not set up."), code="no_device", field="code"
        )
    _check_token(device, token)
    return device


def totp_device_disable(*, user: Any, token: str) -> None:
    """Remove two-factor authentication; a current code proves the device is at hand."""
    totp_verify(user=user, token=token)
    TOTPDevice.objects.filter(user=user).delete()
