"""Agency API keys (kunci API): machine credentials for an agency's own systems.

Created and revoked by the agency's admins (the ombudsman's cross-agency read-only key by
ombudsman reviewers or a superuser); a key is shown once, stored hashed, and names a scope.
A request made with a key acts as `ApiKeyActor`, which the permission policy asks for its
grant: read keys may read the agency's private data; read-write keys may do what the
agency's editors may (draft standards, record deliveries), never more.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import AgencyApiKey, ApiKeyEvent, ApiKeyEventKind, ApiKeyScope, Role
from agencies.policy import ALL_GRANT, NO_GRANT, ROLE_ACTIONS, Action, Grant, can, grant_for
from core.errors import ApplicationError, PermissionDeniedError

logger = logging.getLogger(__name__)

# A key may do what the agency's editors may, never more.
WRITE_ACTIONS: frozenset[Action] = ROLE_ACTIONS[Role.EDITOR]
READ_ACTIONS: frozenset[Action] = frozenset({Action.VIEW_PRIVATE})
# The last-used time is written at most this often per key (not on every request).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# At most one "use refused" audit row per key in this many seconds, so a client stuck
# on a revoked key cannot fill the table.
REFUSAL_AUDIT_INTERVAL = 60
NAME_MAX_LENGTH = 50


@dataclass(frozen=True)
class ApiKeyActor:
    """Who acts when a request carries an API key: a machine, not a person.

    It stands in for `request.user` in the API: the policy asks it for its grant, and
    services record it in audit trails by its label (never as a user).
    """

    key: AgencyApiKey
    is_authenticated: bool = field(default=True, init=False)
    is_anonymous: bool = field(default=False, init=False)
    is_active: bool = field(default=True, init=False)
    is_superuser: bool = field(default=False, init=False)
    is_staff: bool = field(default=False, init=False)
    is_machine: bool = field(default=True, init=False)

    @property
    def pk(self) -> str:
        # What DRF's user throttle counts by: each key has its own budget.
        return f"api-key:{self.key.prefix}"

    @property
    def audit_label(self) -> str:
        return self.key.label

    def policy_grant(self, action: Action) -> Grant:
        allowed = WRITE_ACTIONS if self.key.scope == ApiKeyScope.READ_WRITE else READ_ACTIONS
        if action not in allowed:
            return NO_GRANT
        if self.key.agency_id is None:
            return ALL_GRANT
        return Grant(False, frozenset({self.key.agency_id}), frozenset())

    def __str__(self) -> str:
        return self.audit_label


class ApiKeyRefused(Exception):
    """The presented key cannot be used; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Who may manage which keys -----------------------------------------------------
def can_manage_agency_keys(user: Any, agency: Any) -> bool:
    return can(user, Action.MANAGE_AGENCY, agency)


def can_manage_ombudsman_keys(user: Any) -> bool:
    """The ombudsman's own key: its reviewers (and superusers) manage it."""
    return grant_for(user, Action.DECIDE_BREACH).everywhere


def _check_may_manage(user: Any, agency: Any | None) -> None:
    allowed = (
        can_manage_ombudsman_keys(user) if agency is None else can_manage_agency_keys(user, agency)
    )
    if not allowed:
        raise PermissionDeniedError()


# --- Writes ------------------------------------------------------------------------
@transaction.atomic
def api_key_create(
    *,
    agency: Any | None,
    name: str,
    scope: str,
    expires_at: dt.datetime | None,
    acting_user: Any,
    ip: str | None = None,
) -> tuple[AgencyApiKey, str]:
    """Create a key; returns it and its secret, which is never retrievable again."""
    _check_may_manage(acting_user, agency)
    name = name.strip()
    if not name:
        raise ApplicationError(_("Give the key a name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            _("At most %(max)d characters.") % {"max": NAME_MAX_LENGTH}, field="name"
        )
    if scope not in ApiKeyScope.values:
        raise ApplicationError(_("Choose a scope."), field="scope")
    if agency is None and scope != ApiKeyScope.READ:
        raise ApplicationError(_("The ombudsman's key can only read."), field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("The expiry must be in the future."), field="expires_at")
    key, secret = AgencyApiKey.objects.create_key(
        agency=agency, name=name, scope=scope, expiry_date=expires_at, created_by=acting_user
    )
    assert isinstance(key, AgencyApiKey)
    ApiKeyEvent.objects.create(key=key, kind=ApiKeyEventKind.CREATED, actor=acting_user, ip=ip)
    logger.info("API key %s created by user %s", key.prefix, acting_user.pk)
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: AgencyApiKey, acting_user: Any, ip: str | None = None) -> AgencyApiKey:
    _check_may_manage(acting_user, key.agency)
    # Conditional update: revoking twice (two tabs, a double click) records one event.
    changed = AgencyApiKey.objects.filter(pk=key.pk, revoked=False).update(
        revoked=True, revoked_at=timezone.now(), revoked_by=acting_user
    )
    if changed:
        ApiKeyEvent.objects.create(key=key, kind=ApiKeyEventKind.REVOKED, actor=acting_user, ip=ip)
        logger.info("API key %s revoked by user %s", key.prefix, acting_user.pk)
    key.refresh_from_db()
    return key


# --- Reads -------------------------------------------------------------------------
def api_key_list(*, agency: Any | None) -> QuerySet[AgencyApiKey]:
    keys = AgencyApiKey.objects.select_related("created_by", "revoked_by")
    keys = keys.filter(agency__isnull=True) if agency is None else keys.filter(agency=agency)
    return keys.order_by("revoked", "-created")


def api_key_get(*, agency: Any | None, prefix: str) -> AgencyApiKey | None:
    return api_key_list(agency=agency).filter(prefix=prefix).first()


# --- Use -----------------------------------------------------------------------------
def _refuse(key: AgencyApiKey, reason: str, ip: str | None) -> ApiKeyRefused:
    logger.warning("API key %s refused: %s (from %s)", key.prefix, reason, ip)
    if cache.add(f"api-key-refused:{key.pk}:{reason}", 1, REFUSAL_AUDIT_INTERVAL):
        ApiKeyEvent.objects.create(key=key, kind=ApiKeyEventKind.REFUSED, reason=reason, ip=ip)
    return ApiKeyRefused(reason)


def api_key_authenticate(secret: str, *, ip: str | None = None) -> ApiKeyActor:
    """The actor for a presented key, or ApiKeyRefused (unknown, wrong, revoked, expired)."""
    prefix, dot, _rest = secret.partition(".")
    if not dot or not prefix or len(prefix) > 8:
        raise ApiKeyRefused("malformed")
    key = AgencyApiKey.objects.filter(prefix=prefix).select_related("agency").first()
    if key is None:
        logger.warning("Unknown API key prefix presented (from %s)", ip)
        raise ApiKeyRefused("unknown")
    if not key.is_valid(secret):
        raise _refuse(key, "wrong_secret", ip)
    if key.revoked:
        raise _refuse(key, "revoked", ip)
    if key.has_expired:
        raise _refuse(key, "expired", ip)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        AgencyApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return ApiKeyActor(key)
