"""Helpers for the account-security tests: English URLs, TOTP codes, verified sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db: Any) -> Iterator[None]:
    # Rate-limit counters live in the shared cache (Redis): start every test at zero.
    cache.clear()
    yield
    cache.clear()


def en(name: str, **kwargs: Any) -> str:
    """The English URL, so that assertions on English messages survive a filled .po file."""
    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show now (or `steps_ahead` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def confirmed_device_for(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def login_verified(client: Any, user: Any) -> TOTPDevice:
    """Log in as a user who has a confirmed device and entered a code in this session."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_device_for(
        user
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
