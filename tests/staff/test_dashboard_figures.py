"""The staff dashboard answers "how are we doing": on-time share per unit over 12 months
(chart and table), open breaches by kind and age, standards and charters due for review,
incomplete standards, the inbox's unread count. An agency admin sees the whole agency, a
unit-limited member their units."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Role
from delivery.services import delivery_record
from notifications.models import Notification
from staff.selectors import dashboard_figures, dashboard_rows, months_after
from tests import factories
from tests.accounts.conftest import login_verified
from tests.oversight.desk_world import desk_breach
from tests.oversight.test_compensation import publish_charter
from tests.registry import make_published, make_service

URL = "/staff/"


@pytest.fixture(autouse=True)
def _small_sample(settings: Any) -> None:
    settings.MAKLUMAT = {**settings.MAKLUMAT, "MIN_SAMPLE": 3}


def _deliveries(service: Any, prefix: str, on_time: int, late: int) -> None:
    """Completed deliveries a few weeks ago: on time (next day) or late (a month later)."""
    start = timezone.now() - dt.timedelta(days=60)
    for i in range(on_time + late):
        submitted = start + dt.timedelta(days=i % 5)
        took = dt.timedelta(days=1) if i < on_time else dt.timedelta(days=35)
        delivery_record(
            service=service,
            reference=f"{prefix}-{i}",
            submitted_at=submitted,
            file_complete_at=submitted,
            completed_at=submitted + took,
        )


def _publish(service: Any, **overrides: Any) -> Any:
    return make_published(
        service, published_at=timezone.now() - dt.timedelta(days=200), **overrides
    )


@pytest.fixture
def world(agency_a, agency_b, unit_a, unit_b, national):
    unit_a2 = factories.UnitFactory(agency=agency_a, name="Unit A2", slug="unit-a2")
    ktp = make_service(agency_a, unit_a, "KTP-el")
    _publish(ktp)
    kk = make_service(agency_a, unit_a2, "Kartu Keluarga")
    _publish(kk)
    imb = make_service(agency_b, unit_b, "PBG")
    _publish(imb)
    _deliveries(ktp, "ktp", on_time=3, late=1)  # 75%
    _deliveries(kk, "kk", on_time=2, late=0)  # too few to judge
    _deliveries(imb, "imb", on_time=1, late=2)  # 33%
    desk_breach(agency=agency_a, unit=unit_a, days_ago=3, on_desk_days_ago=None, reason="pulled")
    desk_breach(
        agency=agency_a,
        unit=unit_a2,
        kind="overcharge",
        days_ago=50,
        on_desk_days_ago=None,
        reason="pulled",
    )
    desk_breach(
        agency=agency_a,
        unit=unit_a,
        status="dismissed",
        days_ago=3,
        on_desk_days_ago=None,
        reason="pulled",
    )
    desk_breach(agency=agency_b, unit=unit_b, days_ago=3, on_desk_days_ago=None, reason="pulled")
    return {"unit_a2": unit_a2, "ktp": ktp, "kk": kk, "imb": imb}


@pytest.fixture
def people(cast, agency_a, agency_b, world):
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin_b, agency=agency_b, role=Role.AGENCY_ADMIN)
    limited = factories.UserFactory(username="limited")
    factories.MembershipFactory(
        user=limited, agency=agency_a, unit=world["unit_a2"], role=Role.EDITOR
    )
    return {**cast, "admin_b": admin_b, "limited": limited}


def _figures(user: Any, today: dt.date | None = None) -> Any:
    return dashboard_figures(user=user, rows=dashboard_rows(user=user), today=today)


def _rates(figures: Any) -> dict[str, int | None]:
    return {u.name: u.on_time_percent for u in figures.units}


def test_admin_sees_every_unit_of_the_agency(people, unit_a):
    figures = _figures(people["admin_a"])
    assert _rates(figures) == {unit_a.name: 75, "Unit A2": None}
    ktp = next(u for u in figures.units if u.name == unit_a.name)
    assert (ktp.completed, ktp.on_time) == (4, 3)
    assert ktp.chart is not None and len(ktp.months) == 12
    assert sum(m.completed for m in ktp.months) == 4


def test_a_unit_limited_editor_sees_only_their_unit(people):
    figures = _figures(people["limited"])
    assert _rates(figures) == {"Unit A2": None}
    assert [(row[0], row[3]) for row in figures.open_breaches.rows] == [("overcharge", 1)]


def test_the_other_agency_sees_only_its_own(people, unit_b):
    figures = _figures(people["admin_b"])
    assert _rates(figures) == {unit_b.name: 33}
    assert figures.open_breaches.total == 1


def test_open_breaches_by_kind_and_age_band(people):
    figures = _figures(people["admin_a"])
    rows = {
        kind: {band.key: n for band, n in counts}
        for kind, _, counts, _ in figures.open_breaches.rows
    }
    # The dismissed breach is closed: not counted.
    assert rows == {
        "late_delivery": {"week": 1, "month": 0, "quarter": 0, "older": 0},
        "overcharge": {"week": 0, "month": 0, "quarter": 1, "older": 0},
    }


def test_standards_due_for_review_and_incomplete(people, agency_a, unit_a, world):
    incomplete = make_service(agency_a, unit_a, "Akta")
    _publish(incomplete, product="")  # a component missing
    version = world["ktp"].versions.get(status="published")
    due = version.next_review_date
    figures = _figures(people["admin_a"], today=due - dt.timedelta(days=10))
    assert world["ktp"].pk in {r.service.pk for r in figures.review_due}
    assert [r.service.name for r in figures.incomplete] == ["Akta"]
    figures = _figures(people["admin_a"], today=due - dt.timedelta(days=40))
    assert figures.review_due == []
    # Agency B's due standards are not A's business.
    assert world["imb"].pk not in {
        r.service.pk for r in _figures(people["admin_a"], due).review_due
    }


def test_charters_due_for_review(people, unit_a, world):
    today = timezone.localdate()
    charter = publish_charter(
        unit_a, [world["ktp"]], signed_on=months_after(today, -12) + dt.timedelta(days=20)
    )
    figures = _figures(people["admin_a"], today=today)
    assert [(c.pk, d) for c, d in figures.charters_due] == [
        (charter.pk, today + dt.timedelta(days=20))
    ]
    assert _figures(people["admin_b"], today=today).charters_due == []
    assert _figures(people["limited"], today=today).charters_due == []


def test_months_after_clamps_to_the_month_end():
    assert months_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert months_after(dt.date(2025, 12, 7), 12) == dt.date(2026, 12, 7)
    assert months_after(dt.date(2026, 12, 7), -12) == dt.date(2025, 12, 7)


# --- The page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "units"),
    [
        ("admin_a", {"unit_a", "unit_a2"}),
        ("editor_a", {"unit_a", "unit_a2"}),
        ("limited", {"unit_a2"}),
        ("admin_b", {"unit_b"}),
        ("editor_b", {"unit_b"}),
        ("ombudsman", {"unit_a", "unit_a2", "unit_b"}),
    ],
)
def test_who_sees_which_units(client, people, world, unit_a, unit_b, role, units):
    ids = {"unit_a": unit_a.pk, "unit_a2": world["unit_a2"].pk, "unit_b": unit_b.pk}
    login_verified(client, people[role])
    body = client.get(URL).content.decode()
    shown = {int(pk) for pk in re.findall(r'<tr data-unit="(\d+)"', body)}
    assert shown == {ids[name] for name in units}


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_has_a_chart_a_table_and_the_unread_count(client, people, unit_a, world):
    user = people["admin_a"]
    for n in range(3):
        Notification.objects.create(
            event="breach_created", channel="inapp", user=user, idempotency_key=f"d{n}"
        )
    login_verified(client, user)
    body = client.get(URL).content.decode()
    assert f'data-unit-chart="{unit_a.pk}"' in body
    assert 'aria-describedby="unit-ontime-table"' in body and 'id="unit-ontime-table"' in body
    assert re.search(
        rf'<tr data-unit="{unit_a.pk}">\s*<th scope="row">[^<]+</th>\s*<td data-rate="75"', body
    )
    assert 'data-unread="3"' in body
    assert "<script" not in body.split("<main", 1)[-1] and " style=" not in body


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_flat(client, people, agency_a, world):
    login_verified(client, people["admin_a"])
    client.get(URL)
    small = _queries(client)
    for n in range(4):
        unit = factories.UnitFactory(agency=agency_a)
        service = make_service(agency_a, unit, f"Layanan {n}")
        _publish(service)
        _deliveries(service, f"more{n}", on_time=2, late=1)
        desk_breach(agency=agency_a, unit=unit, days_ago=20, on_desk_days_ago=None, reason="pulled")
    large = _queries(client)
    assert small == large
    # Session, user, memberships, the rows, on-time per unit and month and the units'
    # names, open breaches by kind and age, charters due, the unread count...
    assert large <= 16, large
