"""The agency staff's breach list (/staff/breaches/): filters in the URL, whitelisted sorts,
pages, counts per state, all scoped by the permission policy."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Role
from oversight.breach_list import AGE_BANDS
from tests import factories
from tests.accounts.conftest import login_verified
from tests.oversight.desk_world import desk_breach

URL = "/staff/breaches/"


def _breach(**kwargs: Any) -> Any:
    kwargs.setdefault("on_desk_days_ago", None)
    kwargs.setdefault("reason", "pulled")
    return desk_breach(**kwargs)


@pytest.fixture
def world(agency_a, agency_b, unit_a, unit_b):
    unit_a2 = factories.UnitFactory(agency=agency_a, name="Unit A2", slug="unit-a2")
    service_a = factories.ServiceFactory(agency=agency_a, unit=unit_a, name="KTP")
    service_a2 = factories.ServiceFactory(agency=agency_a, unit=unit_a2, name="KK")
    service_b = factories.ServiceFactory(agency=agency_b, unit=unit_b, name="IMB")
    return {
        "a1": _breach(agency=agency_a, unit=unit_a, service=service_a, days_ago=2),
        "a1_old": _breach(
            agency=agency_a,
            unit=unit_a,
            service=service_a,
            kind="overcharge",
            status="acknowledged",
            days_ago=45,
        ),
        "a2": _breach(agency=agency_a, unit=unit_a2, service=service_a2, days_ago=120),
        "a2_closed": _breach(
            agency=agency_a, unit=unit_a2, service=service_a2, status="dismissed", days_ago=10
        ),
        "b": _breach(agency=agency_b, unit=unit_b, service=service_b, days_ago=3),
        "unit_a2": unit_a2,
        "service_a": service_a,
        "service_b": service_b,
    }


@pytest.fixture
def editor_a_unit(agency_a, world):
    """An editor of agency A limited to the unit A2."""
    user = factories.UserFactory(username="editor_a_unit")
    factories.MembershipFactory(user=user, agency=agency_a, unit=world["unit_a2"], role=Role.EDITOR)
    return user


def _shown(response: Any) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-breach="(\d+)"', response.content.decode())}


def _ids(world: dict[str, Any], *names: str) -> set[int]:
    return {world[name].pk for name in names}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_a", ("a1", "a1_old", "a2", "a2_closed")),
        ("editor_a", ("a1", "a1_old", "a2", "a2_closed")),
        ("editor_a_unit", ("a2", "a2_closed")),
        ("editor_b", ("b",)),
        ("ombudsman", ("a1", "a1_old", "a2", "a2_closed", "b")),
    ],
)
def test_each_sees_only_their_breaches(client, cast, editor_a_unit, world, role, expected):
    users = {**cast, "editor_a_unit": editor_a_unit}
    login_verified(client, users[role])
    response = client.get(URL)
    assert response.status_code == 200
    assert _shown(response) == _ids(world, *expected)


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_of_b_cannot_filter_into_agency_a(client, agency_b, world):
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin_b, agency=agency_b, role=Role.AGENCY_ADMIN)
    login_verified(client, admin_b)
    response = client.get(URL, {"unit": world["a1"].unit_id})
    assert response.status_code == 400  # not one of their units: a form error
    assert _shown(response) == set()
    assert _shown(client.get(URL)) == _ids(world, "b")


def test_a_unit_limited_editor_is_offered_only_their_units(client, editor_a_unit, world):
    login_verified(client, editor_a_unit)
    body = client.get(URL).content.decode()
    assert "Unit A2" in body and world["a1"].unit.name not in body
    assert client.get(URL, {"unit": world["a1"].unit_id}).status_code == 400


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "overcharge"}, ("a1_old",)),
        ({"status": "acknowledged"}, ("a1_old",)),
        ({"status": "closed"}, ("a2_closed",)),
        ({"status": "not_closed"}, ("a1", "a1_old", "a2")),
        ({"age": "week"}, ("a1",)),
        ({"age": "month"}, ("a2_closed",)),
        ({"age": "quarter"}, ("a1_old",)),
        ({"age": "older"}, ("a2",)),
    ],
)
def test_filters(client, editor_a, world, query, expected):
    login_verified(client, editor_a)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert _shown(response) == _ids(world, *expected)


def test_filter_by_unit_and_service(client, editor_a, world):
    login_verified(client, editor_a)
    assert _shown(client.get(URL, {"unit": world["unit_a2"].pk})) == _ids(world, "a2", "a2_closed")
    assert _shown(client.get(URL, {"service": world["service_a"].pk})) == _ids(
        world, "a1", "a1_old"
    )


def test_the_ombudsman_filters_by_number(client, ombudsman, world):
    login_verified(client, ombudsman)
    response = client.get(URL, {"service": world["service_b"].pk})
    assert response.status_code == 200
    assert _shown(response) == _ids(world, "b")


def test_counts_per_state_ignore_the_status_filter(client, editor_a, world):
    login_verified(client, editor_a)
    body = client.get(URL, {"status": "dismissed"}).content.decode()
    counts = dict(re.findall(r'data-status="(\w+)">.*?<span class="count">(\d+)</span>', body))
    assert counts["open"] == "2" and counts["acknowledged"] == "1"
    assert counts["dismissed"] == "1" and counts["confirmed"] == "0"


@pytest.mark.parametrize(
    ("sort", "first"),
    [("newest", "a1"), ("oldest", "a2"), ("kind", "a1"), ("status", "a1_old")],
)
def test_sorts(client, editor_a, world, sort, first):
    login_verified(client, editor_a)
    body = client.get(URL, {"sort": sort}).content.decode()
    assert re.search(r'data-breach="(\d+)"', body).group(1) == str(world[first].pk)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "pk; DROP TABLE"},
        {"sort": "-id"},
        {"kind": "nope"},
        {"status": "everything"},
        {"age": "-3"},
        {"unit": "abc"},
        {"unit": "99999999999999999999999"},
        {"service": "1\x00"},
    ],
)
def test_bad_input_is_a_form_error_not_a_500(client, editor_a, world, query):
    login_verified(client, editor_a)
    response = client.get(URL, query)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()


@pytest.mark.parametrize("page", ["2", "0", "-1", "abc", "999"])
def test_bad_pages_fall_back_to_a_real_page(client, editor_a, world, page):
    login_verified(client, editor_a)
    assert client.get(URL, {"page": page}).status_code == 200


def test_pages_keep_the_filters(client, editor_a, agency_a, unit_a):
    for days in range(55):
        _breach(agency=agency_a, unit=unit_a, days_ago=days + 0.5)
    login_verified(client, editor_a)
    first = client.get(URL, {"kind": "late_delivery", "sort": "oldest"})
    body = first.content.decode()
    assert len(_shown(first)) == 50
    assert "kind=late_delivery&amp;sort=oldest&amp;page=2" in body
    second = client.get(URL, {"kind": "late_delivery", "sort": "oldest", "page": 2})
    assert len(_shown(second)) == 5
    assert not _shown(first) & _shown(second)


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, {"status": "not_closed", "sort": "unit"}).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_pinned_and_flat(client, editor_a, agency_a, unit_a, world):
    login_verified(client, editor_a)
    small = _queries(client)
    for days in range(40):
        service = factories.ServiceFactory(agency=agency_a, unit=unit_a)
        unit = factories.UnitFactory(agency=agency_a)
        _breach(agency=agency_a, unit=unit, service=service, days_ago=days)
    large = _queries(client)
    assert small == large
    assert large <= 12


def test_age_bands_are_contiguous():
    for before, after in itertools.pairwise(AGE_BANDS):
        assert before.max_days is not None and after.min_days == before.max_days + 1
    assert AGE_BANDS[0].min_days == 0 and AGE_BANDS[-1].max_days is None
