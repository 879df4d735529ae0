"""Login throttling: a growing lock per account, and a much higher limit per client address.

Per account: every failed password or code for one account counts, from any address.
Each LOGIN_ACCOUNT_FAILURES-th failure locks the account, for LOGIN_ACCOUNT_LOCK_SECONDS
the first time and twice as long each time after (at most LOGIN_ACCOUNT_LOCK_MAX_SECONDS).
While locked nothing is checked, so even the right password is refused. A completed login
forgets the failures; so does a day without any. A name that matches no account is
counted and locked exactly like one that does (same message, same work), so the login
form does not tell which accounts exist; only a real account gets the notice email.

Per client address (core/client_ip.py): LOGIN_IP_FAILURE_RATE failures across all names,
high enough that one person's typos never lock out an office behind one address, low
enough to stop a password spray from one address.

All counters live in the default cache, which every web process must share (Redis in
production): a per-process cache would multiply every limit by the number of processes.
The address counter is django-ratelimit's (as for the public forms); the account lock
needs state a fixed window cannot hold (a level that grows), so it is kept here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

from accounts.models import User
from accounts.selectors import user_get_by_login
from core.client_ip import client_ip

logger = logging.getLogger(__name__)

IP_GROUP = "accounts.login.ip"
# A day without a failure forgets an account's failures: its next lock starts short again.
FAILURE_MEMORY_SECONDS = 24 * 60 * 60
_PREFIX = "login-throttle"
MAX_NAME_LENGTH = 254  # the login form's username field


@dataclass(frozen=True)
class LoginAccount:
    """Whose login is being tried: an existing account, or a name that matches none."""

    key: str
    name: str
    user: User | None


@dataclass(frozen=True)
class Refusal:
    """Login is refused until `until` (the account is locked, or the address is over its limit)."""

    until: dt.datetime

    def message(self) -> str:
        seconds = (self.until - timezone.now()).total_seconds()
        minutes = max(1, math.ceil(seconds / 60))
        return ngettext(
            "Too many failed attempts. Please try again after %(time)s (in %(minutes)d minute).",
            "Too many failed attempts. Please try again after %(time)s (in %(minutes)d minutes).",
            minutes,
        ) % {"time": formats.time_format(timezone.localtime(self.until), "H:i"), "minutes": minutes}


def login_account_for_name(*, name: str) -> LoginAccount:
    """The account a typed username or email names; unknown names get a key of their own."""
    typed = name.strip()
    # What the login form would refuse names no account (and must not reach the database).
    if len(typed) <= MAX_NAME_LENGTH and "\x00" not in typed:
        user = user_get_by_login(identifier=typed)
        if user is not None:
            return LoginAccount(key=f"user:{user.pk}", name=user.username, user=user)
    return LoginAccount(key=f"name:{typed.lower()}", name=typed[:MAX_NAME_LENGTH], user=None)


def login_account_for_user(*, user: User) -> LoginAccount:
    return LoginAccount(key=f"user:{user.pk}", name=user.username, user=user)


def _cache_key(kind: str, account: LoginAccount) -> str:
    # Hashed: typed names may hold anything, and must not be readable in the cache.
    digest = hashlib.sha256(account.key.encode()).hexdigest()
    return f"{_PREFIX}:{kind}:{digest}"


def _ip_usage(request: HttpRequest, *, increment: bool) -> dict[str, int] | None:
    # key="ip" is django-ratelimit's, which asks core.client_ip (RATELIMIT_IP_META_KEY).
    return get_usage(
        request, group=IP_GROUP, key="ip", rate=settings.LOGIN_IP_FAILURE_RATE, increment=increment
    )


def login_refusal(*, request: HttpRequest, account: LoginAccount | None) -> Refusal | None:
    """Is a login attempt refused before anything is checked? (Asking does not count.)"""
    if not settings.RATELIMIT_ENABLE:
        return None
    now = timezone.now()
    until: list[dt.datetime] = []
    if account is not None:
        locked_until = cache.get(_cache_key("lock", account))
        if locked_until is not None and locked_until > now.timestamp():
            until.append(dt.datetime.fromtimestamp(locked_until, tz=dt.UTC))
    usage = _ip_usage(request, increment=False)
    if usage is not None and usage["count"] >= usage["limit"]:
        until.append(now + dt.timedelta(seconds=max(usage["time_left"], 1)))
    return Refusal(until=max(until)) if until else None


def _count_failure(key: str) -> int:
    """Add one failure atomically (Redis INCR) and return the new count."""
    cache.add(key, 0, FAILURE_MEMORY_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, FAILURE_MEMORY_SECONDS)
        count = 1
    cache.touch(key, FAILURE_MEMORY_SECONDS)
    return int(count)


def lock_seconds(failures: int) -> int:
    """How long the account is locked after its `failures`-th failure (0: not locked)."""
    threshold = settings.LOGIN_ACCOUNT_FAILURES
    if failures < threshold or failures % threshold:
        return 0
    doublings = min(failures // threshold - 1, 20)
    return int(
        min(
            settings.LOGIN_ACCOUNT_LOCK_SECONDS * 2**doublings,
            settings.LOGIN_ACCOUNT_LOCK_MAX_SECONDS,
        )
    )


def login_failure_record(*, request: HttpRequest, account: LoginAccount | None) -> None:
    """Count a failed password or code against the client address and the account."""
    if not settings.RATELIMIT_ENABLE:
        return
    ip = client_ip(request)
    usage = _ip_usage(request, increment=True)
    if usage is not None and usage["count"] == usage["limit"]:
        logger.warning(
            "login: address %s reached %s failed logins; refused for %ds",
            ip,
            settings.LOGIN_IP_FAILURE_RATE,
            max(usage["time_left"], 1),
        )
    if account is None:
        return
    failures = _count_failure(_cache_key("failures", account))
    seconds = lock_seconds(failures)
    if not seconds:
        return
    # Exactly one request sees the count that locks (INCR is atomic): it alone locks,
    # logs and sends the notice.
    until = timezone.now() + dt.timedelta(seconds=seconds)
    cache.set(_cache_key("lock", account), until.timestamp(), seconds)
    logger.warning(
        "login: account %r locked for %ds after %d failed attempts (last from %s)%s",
        account.name,
        seconds,
        failures,
        ip,
        "" if account.user is not None else " (no such account)",
    )
    user = account.user
    if user is not None and user.is_active and user.email:
        user_id, at = user.pk, until.timestamp()
        # Queued, not sent here: an SMTP round trip in this response only for real accounts
        # would tell an attacker which names exist.
        transaction.on_commit(
            lambda: _queue_notice(user_id=user_id, until=at, ip=ip, seconds=seconds), robust=True
        )


def login_success_record(*, account: LoginAccount) -> None:
    """A completed login (password, and code when enrolled) forgets the account's failures."""
    cache.delete_many([_cache_key("failures", account), _cache_key("lock", account)])


def _queue_notice(*, user_id: int, until: float, ip: str, seconds: int) -> None:
    from accounts.tasks import login_lock_notice_task

    try:
        login_lock_notice_task.apply_async(
            kwargs={"user_id": user_id, "until": until, "ip": ip, "seconds": seconds}, retry=False
        )
    except Exception as exc:  # the broker is down: the lock itself stands, and is logged
        logger.warning("login: could not queue the lock notice for user %s (%s)", user_id, exc)


def login_lock_notice_send(*, user_id: int, until: float, ip: str, seconds: int) -> bool:
    """Email the account's owner that its login is locked; at most once per lock.

    Returns whether a message was sent.
    """
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    claim = f"{_PREFIX}:notice:{user_id}:{int(until)}"
    if not cache.add(claim, 1, seconds + 60):
        return False  # this lock's notice was already sent (a redelivered task)
    languages = {code for code, _name in settings.LANGUAGES}
    language = (
        user.preferred_language if user.preferred_language in languages else settings.LANGUAGE_CODE
    )
    locked_until = dt.datetime.fromtimestamp(until, tz=dt.UTC)
    try:
        with translation.override(language):
            context = {
                "user": user,
                "until": formats.date_format(timezone.localtime(locked_until), "j F Y, H:i"),
                "time_zone": settings.TIME_ZONE,
                "ip": ip,
                "site_url": settings.SITE_URL,
            }
            subject = _("Maklumat: failed sign-in attempts on your account")
            body = render_to_string("accounts/login_lock_email.txt", context)
        send_mail(subject, body, None, [user.email])
    except Exception:
        cache.delete(claim)  # let a retry send it
        raise
    return True
