"""Odd input on the pages this issue added: a clear 4xx (or the page again), never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.accounts.conftest import login_verified
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach

service = notifications_conftest.service  # the fixture, shared

ODD = [
    "",
    "x" * 5000,
    "\x00",
    "🙂" * 50,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "a@b",
    "@@",
    "-1",
    "9" * 40,
]


@pytest.fixture
def breach(service: Any) -> Any:
    return late_breach(service, "ODD-1")


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Any:
    cache.clear()
    yield
    cache.clear()


def test_public_follow_confirm_and_unsubscribe_never_fail(client: Any, breach: Any) -> None:
    code = breach.delivery.tracking_code
    for value in ODD:
        follow = client.post(reverse("track:follow", kwargs={"code": code}), {"email": value})
        assert follow.status_code in (302, 400), (value[:20], follow.status_code)
        cache.clear()  # the per-address limit is not what is tested here
    for token in ["x", "a:b:c", "x" * 3000, "%00", "..", "🙂"]:
        for name in ("track:confirm", "track:unsubscribe"):
            url = reverse(name, kwargs={"token": token})
            assert client.get(url).status_code in (200, 400, 404), (name, token[:20])
            assert client.post(url).status_code in (200, 400, 404), (name, token[:20])
    garbage = client.post(
        reverse("track:follow", kwargs={"code": "ZZZZ-ZZZZ"}), {"email": "a@example.org"}
    )
    assert garbage.status_code == 404


def test_staff_forms_answer_odd_input_with_field_errors(
    client: Any, breach: Any, admin_a: Any, agency_a: Any
) -> None:
    login_verified(client, admin_a)
    compensation = reverse("breach_answers:compensation", kwargs={"pk": breach.pk})
    answer = reverse("breach_answers:answer", kwargs={"pk": breach.pk})
    add = reverse("notifications:webhook_add", kwargs={"agency_slug": agency_a.slug})
    mine = reverse("notifications:my_settings")
    for value in ODD:
        for url, data in [
            (compensation, {"amount": value, "paid_on": value}),
            (answer, {"step": value, "text": value}),
            (add, {"url": value, "units": [value]}),
            (mine, {"mode": value, "kinds": [value]}),
        ]:
            response = client.post(url, data)
            # The form again with its errors (400), or done (redirect): never a 500, and never
            # turned away (403/404 would mean the forms were not reached at all).
            assert response.status_code in (200, 302, 400), (url, value[:20], response.status_code)
    refused = client.post(add, {"url": "not a url", "units": []})
    assert refused.status_code == 400 and "field-error" in refused.content.decode()
