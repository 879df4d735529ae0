"""Login throttling: a growing lock per account, a much higher limit per client address."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django_ratelimit.core import is_ratelimited

from tests.accounts.conftest import confirmed_device_for, en, totp_code
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"  # the factories' password


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process, so a queued notice lands in the locmem outbox."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Move Django's clock forward (locks compare against timezone.now())."""

    class Clock:
        offset = dt.timedelta()

        def advance(self, seconds: int) -> None:
            self.offset += dt.timedelta(seconds=seconds)

    real_now = timezone.now
    state = Clock()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + state.offset)
    return state


def _login(client: Any, username: str, password: str, ip: str = "127.0.0.1", url: str = "") -> Any:
    return client.post(
        url or en("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _logged_in(client: Any) -> str | None:
    return client.session.get("_auth_user_id")


def _try_again_times(seconds: int) -> set[str]:
    """The "try again after HH:MM" a lock of `seconds` set just now may show (minute edge)."""
    now = timezone.localtime()
    return {(now + dt.timedelta(seconds=seconds + delta)).strftime("%H:%M") for delta in (-2, 0, 2)}


# --- One office behind one address ------------------------------------------------
def test_one_persons_typos_do_not_lock_out_the_office(client, editor_a, approver_a):
    statuses = [_login(client, "approver_a", "typo", ip="10.1.1.1").status_code for _ in range(10)]
    assert statuses == [200] * 5 + [429] * 5  # approver_a's own account is locked
    response = _login(client, "editor_a", PASSWORD, ip="10.1.1.1")
    assert response.status_code == 302
    assert _logged_in(client) == str(editor_a.pk)


# --- Per account ------------------------------------------------------------------
def test_account_locks_after_its_threshold_from_any_address(client, editor_a):
    for n in range(4):
        assert _login(client, "editor_a", "wrong", ip=f"10.0.0.{n + 1}").status_code == 200
    # The fifth failure, by email this time (the same account), locks it.
    assert _login(client, "Editor_A@example.org", "wrong", ip="10.0.0.9").status_code == 200
    response = _login(client, "editor_a", PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429
    assert _logged_in(client) is None
    body = response.content.decode()
    match = re.search(r"Please try again after (\d\d:\d\d) \(in 1 minute\)", body)
    assert match, body
    assert match.group(1) in _try_again_times(60)
    assert "do not match" not in body  # the password was not even checked
    # Another account from a fresh address is not affected.
    assert _login(client, "someone-else", "wrong", ip="10.0.2.1").status_code == 200


def test_lock_message_in_indonesian(client, editor_a):
    with translation.override("id"):
        url = reverse("accounts:login")
    assert not url.startswith("/en/")
    for _ in range(5):
        _login(client, "editor_a", "salah", url=url)
    response = _login(client, "editor_a", PASSWORD, url=url)
    assert response.status_code == 429
    body = response.content.decode()
    match = re.search(r"Silakan coba lagi setelah pukul (\d\d:\d\d) \(1 menit lagi\)", body)
    assert match, body
    assert match.group(1) in _try_again_times(60)


def test_lock_grows_and_a_completed_login_resets_it(client, editor_a, clock):
    for _ in range(5):
        _login(client, "editor_a", "wrong")
    assert _login(client, "editor_a", PASSWORD).status_code == 429
    clock.advance(61)
    # The first lock is over; five more failures lock it twice as long.
    for _ in range(5):
        assert _login(client, "editor_a", "wrong").status_code == 200
    response = _login(client, "editor_a", PASSWORD)
    assert response.status_code == 429
    assert "(in 2 minutes)" in response.content.decode()
    clock.advance(61)
    assert _login(client, "editor_a", PASSWORD).status_code == 429  # still locked
    clock.advance(60)
    assert _login(client, "editor_a", PASSWORD).status_code == 302
    client.logout()
    # Success forgot the failures: four more do not lock, and the fifth locks for a minute.
    for _ in range(4):
        _login(client, "editor_a", "wrong")
    assert _login(client, "editor_a", PASSWORD).status_code == 302
    client.logout()
    for _ in range(5):
        _login(client, "editor_a", "wrong")
    assert "(in 1 minute)" in _login(client, "editor_a", PASSWORD).content.decode()


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 0), (4, 0), (5, 60), (6, 0), (10, 120), (15, 240), (30, 1920), (35, 3600), (500, 3600)],
)
def test_lock_seconds_double_up_to_the_maximum(settings, failures, seconds):
    settings.LOGIN_ACCOUNT_FAILURES = 5
    settings.LOGIN_ACCOUNT_LOCK_SECONDS = 60
    settings.LOGIN_ACCOUNT_LOCK_MAX_SECONDS = 3600
    from accounts import throttle

    assert throttle.lock_seconds(failures) == seconds


def test_lock_emails_the_account_once_after_commit(
    client, editor_a, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for n in range(4):
            _login(client, "editor_a", "wrong", ip=f"10.0.0.{n + 1}")
    assert callbacks == []
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _login(client, "editor_a", "wrong", ip="10.0.0.5")
    assert mailoutbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [editor_a.email]
    assert "wrong" not in message.body
    assert "10.0.0.5" in message.body
    # Attempts refused while locked send nothing more; the same lock's task run twice neither.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert _login(client, "editor_a", PASSWORD, ip="10.0.0.6").status_code == 429
        callbacks[0]()
    assert len(mailoutbox) == 1


def test_lock_notice_speaks_the_users_language(
    client, editor_a, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    editor_a.preferred_language = "en"
    editor_a.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            _login(client, "editor_a", "wrong")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Maklumat: failed sign-in attempts on your account"
    assert "Someone tried to sign in to your Maklumat account (editor_a)" in mailoutbox[0].body
    assert "If it was not you" in mailoutbox[0].body


def test_lock_is_logged_with_username_and_address(client, editor_a, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.throttle"):
        for _ in range(4):
            _login(client, "editor_a", "wrong", ip="10.0.0.1")
        assert caplog.records == []
        _login(client, "editor_a", "wrong", ip="10.0.0.7")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "'editor_a'" in record.getMessage()
    assert "10.0.0.7" in record.getMessage()
    assert "locked for 60s" in record.getMessage()


def test_unknown_names_are_locked_the_same_way_without_mail(
    client, editor_a, mailoutbox, eager_tasks, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(5):
            assert _login(client, "nobody-here", "wrong").status_code == 200
        unknown = _login(client, "nobody-here", "wrong")
        for _ in range(5):
            _login(client, "editor_a", "wrong")
        known = _login(client, "editor_a", "wrong")
    assert unknown.status_code == known.status_code == 429

    def message(response: Any) -> str:
        return re.sub(r"\d\d:\d\d", "HH:MM", response.context["limited_message"])

    assert message(unknown) == message(known)
    assert len(callbacks) == 1  # the known account's notice only
    assert [m.to for m in mailoutbox] == [[editor_a.email]]
    assert any("no such account" in r.getMessage() for r in caplog.records)


def test_odd_login_names_never_give_a_500(client, db):
    for name in ["a\x00b", "x" * 5000, " ", "@"]:
        response = _login(client, name, "wrong")
        assert response.status_code in (200, 429)


# --- Per client address -------------------------------------------------------------
def test_address_limit_stops_a_spray_across_many_names(client, editor_a, settings, caplog):
    settings.LOGIN_IP_FAILURE_RATE = "20/15m"
    with caplog.at_level(logging.WARNING, logger="accounts.throttle"):
        for n in range(20):
            assert _login(client, f"user{n}", "Password1", ip="10.9.9.9").status_code == 200
    assert [r for r in caplog.records if "address 10.9.9.9" in r.getMessage()]
    response = _login(client, "editor_a", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429
    assert "Please try again after" in response.content.decode()
    assert _logged_in(client) is None
    # Another address is not affected.
    assert _login(client, "editor_a", PASSWORD, ip="10.9.9.10").status_code == 302


def test_address_limit_default_is_far_above_one_persons_typos(settings):
    count, _period = settings.LOGIN_IP_FAILURE_RATE.split("/")
    assert int(count) >= 10 * settings.LOGIN_ACCOUNT_FAILURES


def test_behind_one_proxy_the_forwarded_client_is_limited_not_the_proxy(client, editor_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_IP_FAILURE_RATE = "20/15m"
    for n in range(20):
        # The client forges a different left part each time: it must not help.
        client.post(
            en("accounts:login"),
            {"username": f"user{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7",
        )
    refused = client.post(
        en("accounts:login"),
        {"username": "editor_a", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert refused.status_code == 429
    # Another client behind the same proxy logs in.
    other = client.post(
        en("accounts:login"),
        {"username": "editor_a", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert other.status_code == 302


def test_without_a_trusted_proxy_a_forged_header_does_not_escape_the_limit(
    client, editor_a, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.LOGIN_IP_FAILURE_RATE = "20/15m"
    for n in range(20):
        client.post(
            en("accounts:login"),
            {"username": f"user{n}", "password": "x"},
            REMOTE_ADDR="198.51.100.4",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    refused = client.post(
        en("accounts:login"),
        {"username": "editor_a", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert refused.status_code == 429


def test_public_forms_rate_limits_use_the_same_client_address(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    cache.clear()

    def hit(xff: str) -> bool:
        request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=xff)
        return is_ratelimited(request, group="t", key="ip", rate="2/m", increment=True)

    assert [hit("1.1.1.1, 203.0.113.7"), hit("2.2.2.2, 203.0.113.7")] == [False, False]
    assert hit("3.3.3.3, 203.0.113.7") is True  # the forged left part is one client
    assert hit("203.0.113.8") is False


# --- The code step -------------------------------------------------------------------
def test_code_step_is_throttled_per_account(client, editor_a, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # isolate our lock from django-otp's own delay
    device = confirmed_device_for(editor_a)
    assert _login(client, "editor_a", PASSWORD).status_code == 302
    right = totp_code(device)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post(en("accounts:login_code"), {"code": wrong}).status_code == 200
    response = client.post(en("accounts:login_code"), {"code": right})
    assert response.status_code == 429
    assert "Please try again after" in response.content.decode()
    assert _logged_in(client) is None
    # Knowing the password does not buy more code guesses: the account is locked.
    assert _login(client, "editor_a", PASSWORD, ip="10.0.0.2").status_code == 429


def test_a_known_password_does_not_reset_the_code_limit(client, editor_a, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = confirmed_device_for(editor_a)
    wrong = f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"
    for _ in range(2):
        _login(client, "editor_a", PASSWORD)
        for _ in range(2):
            client.post(en("accounts:login_code"), {"code": wrong})
    _login(client, "editor_a", PASSWORD)
    client.post(en("accounts:login_code"), {"code": wrong})  # the fifth wrong code
    response = client.post(en("accounts:login_code"), {"code": totp_code(device)})
    assert response.status_code == 429


def test_completed_two_factor_login_resets_the_account(client, editor_a, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = confirmed_device_for(editor_a)
    for _ in range(4):
        _login(client, "editor_a", "wrong")
    _login(client, "editor_a", PASSWORD)
    assert client.post(en("accounts:login_code"), {"code": totp_code(device)}).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "editor_a", "wrong")
    assert _login(client, "editor_a", PASSWORD).status_code == 302


def test_inactive_account_gets_no_notice(
    client, db, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    UserFactory(username="gone", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            _login(client, "gone", "wrong")
    assert _login(client, "gone", PASSWORD).status_code == 429
    assert mailoutbox == []
