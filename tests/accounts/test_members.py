"""Permission matrix for the agency members page and its invite/revoke actions."""

from __future__ import annotations

import pytest
from django.test import Client

from agencies.models import Invitation, Membership, Role
from tests.accounts.conftest import en, login_verified
from tests.factories import MembershipFactory, UserFactory

PRIVILEGED = {"admin_a", "ombudsman", "superuser"}


def _client_for(cast, who: str) -> Client:
    client = Client()
    user = cast[who]
    if user is None:
        return client
    if who in PRIVILEGED:
        login_verified(client, user)
    else:
        client.force_login(user)
    return client


def _assert_login_redirect(response) -> None:
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("editor_a", 403),
        ("approver_a", 403),
        ("editor_b", 404),
        ("ombudsman", 403),
        ("admin_a", 200),
        ("superuser", 200),
    ],
)
def test_members_page_matrix(cast, agency_a, who, expected):
    client = _client_for(cast, who)
    response = client.get(en("agency_admin:members", agency_slug=agency_a.slug))
    assert response.status_code == expected
    if expected == 302:
        _assert_login_redirect(response)
    if expected == 200:
        body = response.content.decode()
        assert "editor_a@example.org" in body
        assert "editor_b@example.org" not in body
        assert 'name="csrfmiddlewaretoken"' in body


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("editor_a", 403),
        ("approver_a", 403),
        ("editor_b", 404),
        ("ombudsman", 403),
        ("admin_a", 302),
        ("superuser", 302),
    ],
)
def test_invite_matrix(
    cast, agency_a, who, expected, mailoutbox, django_capture_on_commit_callbacks
):
    client = _client_for(cast, who)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            en("agency_admin:member_invite", agency_slug=agency_a.slug),
            {"email": "new@example.org", "role": Role.EDITOR, "unit": ""},
        )
    assert response.status_code == expected
    allowed = who in {"admin_a", "superuser"}
    assert Invitation.objects.filter(agency=agency_a, email="new@example.org").exists() is allowed
    assert len(mailoutbox) == (1 if allowed else 0)
    if who == "anonymous":
        _assert_login_redirect(response)
    elif allowed:
        assert response["Location"] == en("agency_admin:members", agency_slug=agency_a.slug)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("editor_a", 403),
        ("approver_a", 403),
        ("editor_b", 404),
        ("ombudsman", 403),
        ("admin_a", 302),
        ("superuser", 302),
    ],
)
def test_revoke_matrix(cast, agency_a, who, expected):
    target = Membership.objects.get(user=cast["editor_a"], agency=agency_a)
    client = _client_for(cast, who)
    response = client.post(
        en("agency_admin:member_revoke", agency_slug=agency_a.slug, membership_id=target.pk)
    )
    assert response.status_code == expected
    revoked = who in {"admin_a", "superuser"}
    assert Membership.objects.filter(pk=target.pk).exists() is not revoked
    if who == "anonymous":
        _assert_login_redirect(response)


def test_revoke_of_another_agencys_membership_through_my_agency_is_404(
    client, admin_a, agency_a, editor_b
):
    login_verified(client, admin_a)
    other = Membership.objects.get(user=editor_b)
    response = client.post(
        en("agency_admin:member_revoke", agency_slug=agency_a.slug, membership_id=other.pk)
    )
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_unknown_agency_is_404(client, admin_a):
    login_verified(client, admin_a)
    assert client.get(en("agency_admin:members", agency_slug="no-such")).status_code == 404


def test_unit_limited_staff_of_the_agency_get_403(client, agency_a, unit_a):
    user = UserFactory(username="unit_editor")
    MembershipFactory(user=user, agency=agency_a, unit=unit_a, role=Role.EDITOR)
    client.force_login(user)
    assert client.get(en("agency_admin:members", agency_slug=agency_a.slug)).status_code == 403


def test_invite_form_errors_are_shown(client, admin_a, agency_a, unit_b):
    login_verified(client, admin_a)
    url = en("agency_admin:member_invite", agency_slug=agency_a.slug)
    response = client.post(
        url, {"email": "not-an-email", "role": Role.OMBUDSMAN, "unit": unit_b.pk}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"email", "role", "unit"} <= set(errors)
    assert not Invitation.objects.exists()


def test_invite_of_an_existing_member_is_a_field_error(client, admin_a, agency_a, editor_a):
    login_verified(client, admin_a)
    response = client.post(
        en("agency_admin:member_invite", agency_slug=agency_a.slug),
        {"email": editor_a.email, "role": Role.EDITOR},
    )
    assert response.status_code == 400
    assert "email" in response.context["form"].errors


def test_open_invitations_are_listed(client, admin_a, agency_a, django_capture_on_commit_callbacks):
    login_verified(client, admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            en("agency_admin:member_invite", agency_slug=agency_a.slug),
            {"email": "pending@example.org", "role": Role.APPROVER},
        )
    body = client.get(en("agency_admin:members", agency_slug=agency_a.slug)).content.decode()
    assert "pending@example.org" in body


def test_actions_are_post_only(client, admin_a, agency_a, editor_a):
    login_verified(client, admin_a)
    target = Membership.objects.get(user=editor_a)
    assert (
        client.get(en("agency_admin:member_invite", agency_slug=agency_a.slug)).status_code == 405
    )
    assert (
        client.get(
            en("agency_admin:member_revoke", agency_slug=agency_a.slug, membership_id=target.pk)
        ).status_code
        == 405
    )


def test_actions_require_csrf(admin_a, agency_a, editor_a):
    strict = Client(enforce_csrf_checks=True)
    login_verified(strict, admin_a)
    target = Membership.objects.get(user=editor_a)
    response = strict.post(
        en("agency_admin:member_invite", agency_slug=agency_a.slug),
        {"email": "new@example.org", "role": Role.EDITOR},
    )
    assert response.status_code == 403
    response = strict.post(
        en("agency_admin:member_revoke", agency_slug=agency_a.slug, membership_id=target.pk)
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()
    assert not Invitation.objects.exists()


def test_members_page_query_count_does_not_grow_with_members(
    client, admin_a, agency_a, django_assert_max_num_queries
):
    for n in range(15):
        MembershipFactory(user=UserFactory(username=f"m{n}"), agency=agency_a, role=Role.EDITOR)
    login_verified(client, admin_a)
    with django_assert_max_num_queries(15):
        assert client.get(en("agency_admin:members", agency_slug=agency_a.slug)).status_code == 200
