"""Every breach page under one prefix, /staff/breaches/; the old /staff/oversight/ paths
redirect there for good (emails already sent link to them)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.conftest import login_verified


def test_every_breach_page_is_under_staff_breaches():
    assert reverse("oversight:breaches") == "/staff/breaches/"
    assert reverse("breach_answers:queue") == "/staff/breaches/queue/"
    assert reverse("breach_answers:detail", kwargs={"pk": 7}) == "/staff/breaches/7/"
    assert reverse("breach_answers:decide", kwargs={"pk": 7}) == "/staff/breaches/7/decide/"
    # The one-click link of the emails already sent keeps its path.
    assert reverse("breach_answers:ack", kwargs={"token": "t"}) == (
        "/staff/breaches/acknowledge/t/"
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/staff/oversight/breaches/", "/staff/breaches/"),
        (
            "/staff/oversight/breaches/?kind=late_delivery&status=open",
            "/staff/breaches/?kind=late_delivery&status=open",
        ),
        ("/en/staff/oversight/breaches/?page=2", "/en/staff/breaches/?page=2"),
        ("/staff/oversight/", "/staff/breaches/"),
    ],
)
def test_the_old_oversight_paths_redirect_permanently(client, db, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_the_list_answers_at_its_new_path(client, editor_a):
    login_verified(client, editor_a)
    response = client.get("/staff/breaches/")
    assert response.status_code == 200
    assert 'href="/staff/breaches/queue/"' not in response.content.decode()  # not a reviewer
    followed = client.get("/staff/oversight/breaches/", follow=True)
    assert followed.redirect_chain == [("/staff/breaches/", 301)]
    assert followed.status_code == 200
