from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from accounts.models import User
from agencies.invitations import (
    INVITATION_MAX_AGE,
    INVITATION_SALT,
    InvitationExpired,
    InvitationInvalid,
    InvitationUsed,
    invitation_accept,
    invitation_create,
    invitation_get_by_token,
    invitation_path,
    invitation_token,
)
from agencies.models import Invitation, Membership, Role
from core.errors import ApplicationError, PermissionDeniedError
from tests.accounts.conftest import en, login_verified
from tests.factories import MembershipFactory, UserFactory

NEW_PASSWORD = "a-long-unusual-passphrase-42"


def _signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "siti",
        "first_name": "Siti",
        "last_name": "Rahayu",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


@pytest.fixture
def invitation(admin_a, agency_a, unit_a, django_capture_on_commit_callbacks) -> Invitation:
    with django_capture_on_commit_callbacks(execute=True):
        return invitation_create(
            agency=agency_a,
            email="siti@example.org",
            role=Role.EDITOR,
            unit=unit_a,
            acting_user=admin_a,
        )


def _old_token(invitation: Invitation, age_seconds: int) -> str:
    class PastSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - age_seconds)

    return PastSigner(salt=INVITATION_SALT).sign(str(invitation.pk))


# --- The whole journey: admin invites, email goes out, invitee signs up ---------------
def test_invite_email_link_signup_grants_the_membership(
    client, admin_a, agency_a, unit_a, mailoutbox, django_capture_on_commit_callbacks
):
    login_verified(client, admin_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            en("agency_admin:member_invite", agency_slug=agency_a.slug),
            {"email": "siti@example.org", "role": Role.APPROVER, "unit": unit_a.pk},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["siti@example.org"]
    assert agency_a.name in mail.subject
    assert mail.content_subtype == "plain"
    match = re.search(re.escape(settings.SITE_URL) + r"(/\S+/)", mail.body)
    assert match, mail.body
    path = match.group(1)
    assert path.startswith("/en/accounts/invitation/")
    client.logout()

    page = client.get(path)
    assert page.status_code == 200
    assert "siti@example.org" in page.content.decode()
    response = client.post(path, _signup_data())
    assert response.status_code == 302
    siti = User.objects.get(username="siti")
    assert siti.email == "siti@example.org"
    assert siti.check_password(NEW_PASSWORD)
    membership = Membership.objects.get(user=siti)
    assert (membership.agency, membership.unit, membership.role) == (
        agency_a,
        unit_a,
        Role.APPROVER,
    )
    invitation = Invitation.objects.get(email="siti@example.org")
    assert invitation.accepted_by == siti
    assert invitation.accepted_at is not None
    assert client.session["_auth_user_id"] == str(siti.pk)


def test_email_waits_for_the_commit(admin_a, agency_a, mailoutbox):
    # The test transaction never commits here: no email may leave before the row is committed.
    invitation_create(
        agency=agency_a, email="x@example.org", role=Role.EDITOR, unit=None, acting_user=admin_a
    )
    assert mailoutbox == []


def test_agency_admin_invitee_is_sent_to_two_factor_enrollment(
    client, admin_a, agency_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitation_create(
            agency=agency_a,
            email="boss@example.org",
            role=Role.AGENCY_ADMIN,
            unit=None,
            acting_user=admin_a,
        )
    path = en("accounts:invitation", token=invitation_token(invitation))
    response = client.post(path, _signup_data(username="boss"))
    assert response.status_code == 302
    assert response["Location"].startswith(en("accounts:otp_setup"))


# --- Bad links ---------------------------------------------------------------------
def test_expired_link_is_refused_with_410(client, invitation):
    token = _old_token(invitation, int(INVITATION_MAX_AGE.total_seconds()) + 60)
    with pytest.raises(InvitationExpired):
        invitation_get_by_token(token=token)
    response = client.get(en("accounts:invitation", token=token))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    response = client.post(en("accounts:invitation", token=token), _signup_data())
    assert response.status_code == 410
    assert not User.objects.filter(username="siti").exists()


def test_link_just_inside_the_validity_is_accepted(client, invitation):
    token = _old_token(invitation, int(INVITATION_MAX_AGE.total_seconds()) - 60)
    assert invitation_get_by_token(token=token) == invitation
    assert client.get(en("accounts:invitation", token=token)).status_code == 200


def test_max_age_is_honoured(invitation):
    token = _old_token(invitation, 120)
    with pytest.raises(InvitationExpired):
        invitation_get_by_token(token=token, max_age=INVITATION_MAX_AGE / (7 * 24 * 60))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: "999999" + t[t.index(":") :],  # another invitation id
        lambda t: "garbage",
        lambda t: signing.TimestampSigner(salt="another-purpose").sign(t.split(":")[0]),
    ],
)
def test_tampered_link_is_refused_with_400(client, invitation, tamper):
    token = tamper(invitation_token(invitation))
    with pytest.raises(InvitationInvalid):
        invitation_get_by_token(token=token)
    response = client.get(en("accounts:invitation", token=token))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    response = client.post(en("accounts:invitation", token=token), _signup_data())
    assert response.status_code == 400
    assert not User.objects.filter(username="siti").exists()


def test_link_cannot_be_used_twice(client, invitation):
    path = invitation_path(invitation)
    assert client.post(path, _signup_data()).status_code == 302
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    response = Client().post(path, _signup_data(username="siti2"))
    assert response.status_code == 410
    assert not User.objects.filter(username="siti2").exists()
    with pytest.raises(InvitationUsed):
        invitation_accept(invitation=invitation, user=User.objects.get(username="siti"))


def test_deleted_invitation_link_is_gone(client, invitation):
    path = invitation_path(invitation)
    invitation.delete()
    assert client.get(path).status_code == 410


def test_invitation_void_when_the_inviter_lost_the_admin_role(client, invitation, admin_a):
    Membership.objects.filter(user=admin_a).delete()
    response = client.post(invitation_path(invitation), _signup_data())
    assert response.status_code == 410
    assert not User.objects.filter(username="siti").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- Sign-up form errors --------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password1"),
        ({"username": "editor_a"}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"first_name": ""}, "first_name"),
    ],
)
def test_signup_errors_are_field_errors_and_keep_the_invitation_open(
    client, invitation, editor_a, overrides, field
):
    response = client.post(invitation_path(invitation), _signup_data(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_signup_requires_csrf(invitation):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(invitation_path(invitation), _signup_data())
    assert response.status_code == 403
    assert not User.objects.filter(username="siti").exists()


# --- Existing accounts --------------------------------------------------------------
def test_logged_in_user_with_the_invited_email_just_accepts(client, invitation, agency_a):
    siti: Any = UserFactory(username="siti-old", email="Siti@Example.org")
    client.force_login(siti)
    path = en("accounts:invitation", token=invitation_token(invitation))
    page = client.get(path)
    assert page.status_code == 200
    assert "Accept the invitation" in page.content.decode()
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.filter(user=siti, agency=agency_a, role=Role.EDITOR).exists()


def test_logged_in_user_with_another_email_is_refused(client, invitation, editor_a):
    client.force_login(editor_a)
    path = invitation_path(invitation)
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
    assert not Membership.objects.filter(
        user=editor_a, role=Role.EDITOR, unit__isnull=False
    ).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_anonymous_with_an_existing_account_is_asked_to_log_in(client, invitation):
    UserFactory(username="siti-old", email="siti@example.org")
    response = client.get(en("accounts:invitation", token=invitation_token(invitation)))
    assert response.status_code == 200
    assert "/en/accounts/login/?next=" in response.content.decode()
    response = client.post(invitation_path(invitation), _signup_data())
    assert response.status_code == 200
    assert not User.objects.filter(username="siti").exists()


# --- The service's own rules -----------------------------------------------------------
def test_only_agency_managers_can_invite(editor_a, editor_b, ombudsman, agency_a):
    for user in (editor_a, editor_b, ombudsman):
        with pytest.raises(PermissionDeniedError):
            invitation_create(
                agency=agency_a,
                email="x@example.org",
                role=Role.EDITOR,
                unit=None,
                acting_user=user,
            )
    assert not Invitation.objects.exists()


def test_invitation_rules(admin_a, agency_a, unit_b, editor_a):
    with pytest.raises(ApplicationError) as exc:
        invitation_create(
            agency=agency_a,
            email="x@example.org",
            role=Role.OMBUDSMAN,
            unit=None,
            acting_user=admin_a,
        )
    assert exc.value.field == "role"
    with pytest.raises(ApplicationError) as exc:
        invitation_create(
            agency=agency_a,
            email="x@example.org",
            role=Role.EDITOR,
            unit=unit_b,
            acting_user=admin_a,
        )
    assert exc.value.field == "unit"
    with pytest.raises(ApplicationError) as exc:
        invitation_create(
            agency=agency_a,
            email=editor_a.email.upper(),
            role=Role.EDITOR,
            unit=None,
            acting_user=admin_a,
        )
    assert exc.value.field == "email"
    assert not Invitation.objects.exists()


def test_accept_requires_the_invited_email(invitation, editor_b):
    with pytest.raises(ApplicationError):
        invitation_accept(invitation=invitation, user=editor_b)
    assert not Membership.objects.filter(user=editor_b, agency=invitation.agency).exists()


def test_superuser_can_invite_anywhere(
    superuser, agency_b, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            agency=agency_b,
            email="b@example.org",
            role=Role.AGENCY_ADMIN,
            unit=None,
            acting_user=superuser,
        )
    assert len(mailoutbox) == 1


def test_existing_member_gets_a_second_role(client, invitation, agency_a):
    siti: Any = UserFactory(username="siti-old", email="siti@example.org")
    MembershipFactory(user=siti, agency=agency_a, role=Role.APPROVER)
    membership = invitation_accept(invitation=invitation, user=siti)
    assert membership.role == Role.EDITOR
    assert Membership.objects.filter(user=siti, agency=agency_a).count() == 2
