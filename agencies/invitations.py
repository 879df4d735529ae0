"""Invitations to join an agency: create, email a signed expiring link, accept.

The link carries the invitation id signed with a TimestampSigner (salted, so a
token made for something else never validates here). The row records who
accepted and when, so a link works once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import user_create
from agencies.models import Agency, Invitation, Membership, Role, Unit
from agencies.policy import Action, can
from agencies.services import membership_grant
from core.errors import ApplicationError, PermissionDeniedError

INVITATION_MAX_AGE = dt.timedelta(days=7)
INVITATION_SALT = "maklumat.agencies.invitation"
INVITABLE_ROLES: tuple[str, ...] = (Role.EDITOR, Role.APPROVER, Role.AGENCY_ADMIN)


class InvitationError(ApplicationError):
    """An invitation link that cannot be used; `status` is the HTTP status to answer with."""

    status = 400


class InvitationInvalid(InvitationError):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            _("This invitation link is not valid. Check that you copied the whole link."),
            code="invitation_invalid",
        )


class InvitationExpired(InvitationError):
    status = 410

    def __init__(self) -> None:
        super().__init__(
            _("This invitation has expired. Ask your agency administrator for a new one."),
            code="invitation_expired",
        )


class InvitationUsed(InvitationError):
    status = 410

    def __init__(self) -> None:
        super().__init__(
            _("This invitation has already been used."),
            code="invitation_used",
        )


class InvitationRevoked(InvitationError):
    status = 410

    def __init__(self) -> None:
        super().__init__(
            _("This invitation is no longer valid. Ask your agency administrator for a new one."),
            code="invitation_revoked",
        )


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=INVITATION_SALT)


def invitation_token(invitation: Invitation) -> str:
    return _signer().sign(str(invitation.pk))


def invitation_path(invitation: Invitation) -> str:
    return reverse("accounts:invitation", kwargs={"token": invitation_token(invitation)})


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + invitation_path(invitation)


def invitation_get_by_token(*, token: str, max_age: dt.timedelta | None = None) -> Invitation:
    """The open invitation behind a link, or an InvitationError saying why not."""
    try:
        raw_id = _signer().unsign(token, max_age=max_age or INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvitationExpired() from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid() from exc
    if not raw_id.isdigit():
        raise InvitationInvalid()
    invitation = (
        Invitation.objects.select_related("agency", "unit", "invited_by")
        .filter(pk=int(raw_id))
        .first()
    )
    if invitation is None:
        raise InvitationRevoked()
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    return invitation


def invitation_list_open(*, agency: Agency) -> list[Invitation]:
    """Invitations of the agency that were neither accepted nor left to expire."""
    since = timezone.now() - INVITATION_MAX_AGE
    return list(
        Invitation.objects.filter(agency=agency, accepted_at__isnull=True, created_at__gte=since)
        .select_related("unit", "invited_by")
        .order_by("-created_at")
    )


def invitation_send_email(*, invitation_id: int, language: str) -> None:
    invitation = (
        Invitation.objects.select_related("agency", "unit", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    with translation.override(language):
        context = {
            "invitation": invitation,
            "agency": invitation.agency,
            "role": invitation.get_role_display(),
            "inviter": invitation.invited_by,
            "url": invitation_url(invitation),
            "days": INVITATION_MAX_AGE.days,
        }
        subject = _("Invitation to join %(agency)s on Maklumat") % {
            "agency": invitation.agency.name
        }
        body = render_to_string("agencies/invitation_email.txt", context)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def invitation_create(
    *, agency: Agency, email: str, role: str, unit: Unit | None, acting_user: Any
) -> Invitation:
    """Invite someone by email to a role in the agency; the email leaves after commit."""
    if not can(acting_user, Action.MANAGE_AGENCY, agency):
        raise PermissionDeniedError()
    if role not in INVITABLE_ROLES:
        raise ApplicationError(_("This role cannot be given by invitation."), field="role")
    if unit is not None and unit.agency_id != agency.pk:
        raise ApplicationError(_("The unit belongs to another agency."), field="unit")
    email = email.strip()
    if not email:
        raise ApplicationError(_("Enter an email address."), field="email")
    if Membership.objects.filter(
        agency=agency, role=role, user__email__iexact=email, user__is_active=True
    ).exists():
        raise ApplicationError(_("This person already has this role in the agency."), field="email")
    invitation = Invitation(
        agency=agency, unit=unit, email=email, role=role, invited_by=acting_user
    )
    invitation.full_clean()
    invitation.save()
    language = translation.get_language() or settings.LANGUAGE_CODE
    # robust: a mail server hiccup is logged, never turned into an error page after the commit.
    transaction.on_commit(
        lambda: invitation_send_email(invitation_id=invitation.pk, language=language),
        robust=True,
    )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: Any) -> Membership:
    """Grant the invited role to `user` (who must own the invited email address), once."""
    if user.email.strip().lower() != invitation.email.strip().lower():
        raise ApplicationError(
            _("This invitation was sent to another email address."), code="email_mismatch"
        )
    # Claim the invitation first: of two concurrent accepts, exactly one changes the row.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    if claimed != 1:
        raise InvitationUsed()
    # The invitation speaks for the admin who sent it: if they lost the right to
    # manage the agency since, it is void (membership_grant checks the policy).
    inviter = User.objects.get(pk=invitation.invited_by_id)
    try:
        membership = membership_grant(
            user=user,
            role=invitation.role,
            agency=invitation.agency,
            unit=invitation.unit,
            acting_user=inviter,
        )
    except PermissionDeniedError as exc:
        raise InvitationRevoked() from exc
    invitation.refresh_from_db()
    return membership


@transaction.atomic
def invitation_accept_new_user(
    *,
    invitation: Invitation,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create the invitee's account with the invited email, then accept for it."""
    user = user_create(
        username=username,
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    invitation_accept(invitation=invitation, user=user)
    return user
