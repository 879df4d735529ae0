"""The unit tree: move without cycles, close with a date (nothing orphaned), hours per
weekday shown truthfully on the public unit page; every change in the unit's history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import Calendar, Unit
from agencies.services import unit_close, unit_create, unit_update
from core.errors import ApplicationError, PermissionDeniedError
from tests import factories
from tests.accounts.conftest import login_verified
from tests.registry import make_published, make_service


def test_a_unit_moves_under_another_unit_of_its_agency_but_never_into_a_cycle(
    agency_a: Any, agency_b: Any, admin_a: Any
) -> None:
    top = unit_create(agency=agency_a, name="Dinas", acting_user=admin_a)
    middle = unit_create(agency=agency_a, name="Bidang", parent=top, acting_user=admin_a)
    leaf = unit_create(agency=agency_a, name="Seksi", parent=middle, acting_user=admin_a)
    other = factories.UnitFactory(agency=agency_b)

    for parent in (top, leaf, middle):  # itself, its grandchild, its child
        with pytest.raises(ApplicationError) as refused:
            unit_update(unit=top, parent=parent, acting_user=admin_a)
        assert refused.value.field == "parent"
    with pytest.raises(ApplicationError, match="instansi lain"):
        unit_update(unit=leaf, parent=other, acting_user=admin_a)
    top.refresh_from_db()
    assert top.parent is None

    unit_update(unit=leaf, parent=top, acting_user=admin_a)
    leaf.refresh_from_db()
    assert leaf.parent == top
    assert leaf.history.latest().history_user == admin_a


def test_only_the_agencys_admin_may_change_a_unit(
    unit_a: Any, editor_a: Any, ombudsman: Any, agency_b: Any
) -> None:
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin_b, agency=agency_b, role="agency_admin")
    for user in (editor_a, ombudsman, admin_b):
        with pytest.raises(PermissionDeniedError):
            unit_update(unit=unit_a, name="Diubah", acting_user=user)
        with pytest.raises(PermissionDeniedError):
            unit_close(unit=unit_a, closed_on=timezone.localdate(), acting_user=user)
    unit_a.refresh_from_db()
    assert unit_a.name != "Diubah" and unit_a.is_active


def test_a_unit_with_open_services_or_sub_units_cannot_close(
    agency_a: Any, unit_a: Any, admin_a: Any, approver_a: Any
) -> None:
    service = make_service(agency_a, unit_a)
    make_published(service)
    today = timezone.localdate()
    with pytest.raises(ApplicationError) as refused:
        unit_close(unit=unit_a, closed_on=today, acting_user=admin_a)
    assert refused.value.code == "unit_has_services"
    assert "1 layanan" in refused.value.message
    unit_a.refresh_from_db()
    assert unit_a.is_active and unit_a.closed_on is None

    elsewhere = unit_create(agency=agency_a, name="Kantor Lain", acting_user=admin_a)
    service.unit = elsewhere
    service.save()
    child = unit_create(agency=agency_a, name="Loket", parent=unit_a, acting_user=admin_a)
    with pytest.raises(ApplicationError) as refused:
        unit_close(unit=unit_a, closed_on=today, acting_user=admin_a)
    assert refused.value.code == "unit_has_children"

    unit_close(unit=child, closed_on=today, acting_user=admin_a)
    with pytest.raises(ApplicationError) as future:
        unit_close(unit=unit_a, closed_on=today + dt.timedelta(days=1), acting_user=admin_a)
    assert future.value.field == "closed_on"
    unit_close(unit=unit_a, closed_on=today - dt.timedelta(days=3), acting_user=admin_a)
    unit_a.refresh_from_db()
    assert not unit_a.is_active and unit_a.closed_on == today - dt.timedelta(days=3)
    assert unit_a.history.latest().history_user == admin_a
    with pytest.raises(ApplicationError):  # closed units no longer change
        unit_update(unit=unit_a, name="Lagi", acting_user=admin_a)
    with pytest.raises(ApplicationError, match="sudah ditutup"):
        unit_update(unit=elsewhere, parent=unit_a, acting_user=admin_a)


@pytest.mark.parametrize(
    "hours",
    [
        {"0": ["16:00", "08:00"]},  # closes before it opens
        {"7": ["08:00", "16:00"]},  # no eighth weekday
        {"0": ["8 pagi", "16:00"]},
        {"0": "08:00-16:00"},
        ["08:00", "16:00"],
    ],
)
def test_bad_weekly_hours_are_refused(hours: Any, unit_a: Any, admin_a: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        unit_update(unit=unit_a, weekly_hours=hours, acting_user=admin_a)
    assert refused.value.field == "weekly_hours"
    unit_a.refresh_from_db()
    assert unit_a.weekly_hours == {}


def test_the_unit_page_shows_saturday_hours_and_no_longer_says_monday_to_friday(
    client: Any, unit_a: Any, admin_a: Any
) -> None:
    page = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Senin: 08.00–16.00" in page and "Sabtu: tutup" in page

    week = {str(day): ["08:00", "15:00"] for day in range(5)} | {"5": ["08:00", "12:00"]}
    unit_update(unit=unit_a, weekly_hours=week, acting_user=admin_a)
    page = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Sabtu: 08.00–12.00" in page
    assert "Jumat: 08.00–15.00" in page
    assert "Minggu: tutup" in page
    assert "Senin sampai Jumat" not in page


def test_without_own_hours_the_page_follows_the_units_calendar(
    client: Any, unit_a: Any, admin_a: Any
) -> None:
    six_days = Calendar.objects.create(name="Enam hari", slug="enam-hari", weekend_days=[6])
    unit_update(unit=unit_a, calendar=six_days, acting_user=admin_a)
    page = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Sabtu: 08.00–16.00" in page and "Minggu: tutup" in page


def test_a_closed_unit_says_so_on_its_page(client: Any, unit_a: Any, admin_a: Any) -> None:
    unit_close(unit=unit_a, closed_on=dt.date(2026, 1, 5), acting_user=admin_a)
    page = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Unit ini ditutup sejak 5 Januari 2026." in page
    assert Unit.objects.get(pk=unit_a.pk).is_active is False


# --- The staff pages --------------------------------------------------------------------------


def _users(cast: dict[str, Any], agency_b: Any) -> dict[str, Any]:
    users = dict(cast)
    users["admin_b"] = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=users["admin_b"], agency=agency_b, role="agency_admin")
    return users


def _unit_url(unit: Any, name: str = "agency_admin:unit") -> str:
    return reverse(name, kwargs={"agency_slug": unit.agency.slug, "unit_slug": unit.slug})


def _edit(unit: Any, **changes: Any) -> dict[str, Any]:
    data = {
        "name": unit.name,
        "parent": "",
        "head_name": "Ibu Sari",
        "phone": "022-555",
        "contact_emails": "loket@unit-a.go.id\r\n\r\npengaduan@unit-a.go.id\r\n",
        "calendar": "",
    }
    data |= {f"opens_{day}": "08:00" for day in range(6)}
    data |= {f"closes_{day}": "15:00" for day in range(5)} | {"closes_5": "12:00"}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("admin_a", 200),
        ("admin_b", 404),
        ("editor_a", 403),
        ("ombudsman", 403),
    ],
)
def test_only_the_agencys_admin_may_create_edit_and_close_units(
    who: str,
    expected: int,
    cast: dict[str, Any],
    agency_a: Any,
    agency_b: Any,
    unit_a: Any,
    client: Client,
) -> None:
    users = _users(cast, agency_b)
    if users[who] is not None:
        login_verified(client, users[who])
    list_url = reverse("agency_admin:units", kwargs={"agency_slug": agency_a.slug})
    before = list(Unit.objects.order_by("pk").values())

    assert client.get(list_url).status_code == expected
    assert client.get(_unit_url(unit_a)).status_code == expected
    created = client.post(list_url, {"name": "Loket Sabtu", "parent": unit_a.pk})
    edited = client.post(_unit_url(unit_a), _edit(unit_a, name="Kantor Baru"))
    closed = client.post(
        _unit_url(unit_a, "agency_admin:unit_close"),
        {"closed_on": timezone.localdate().isoformat()},
    )

    if expected == 200:
        assert created.status_code == edited.status_code == 302
        new = Unit.objects.get(name="Loket Sabtu")
        assert new.parent == unit_a and new.agency == agency_a
        unit_a.refresh_from_db()
        assert unit_a.name == "Kantor Baru" and unit_a.head_name == "Ibu Sari"
        assert unit_a.contact_emails == ["loket@unit-a.go.id", "pengaduan@unit-a.go.id"]
        assert unit_a.phone == "022-555"
        assert unit_a.weekly_hours["5"] == ["08:00", "12:00"]
        assert "6" not in unit_a.weekly_hours
        # Its new sub-unit is still open: the unit does not close.
        assert closed.status_code == 400 and unit_a.is_active
        assert unit_a.history.latest().history_user == users[who]
    else:
        assert created.status_code == edited.status_code == closed.status_code == expected
        assert list(Unit.objects.order_by("pk").values()) == before


def test_bad_unit_input_gives_indonesian_field_errors(
    agency_a: Any, unit_a: Any, admin_a: Any, client: Client
) -> None:
    login_verified(client, admin_a)
    before = Unit.objects.values().get(pk=unit_a.pk)
    child = unit_create(agency=agency_a, name="Seksi", parent=unit_a, acting_user=admin_a)
    response = client.post(
        _unit_url(unit_a),
        _edit(
            unit_a,
            name="",
            head_email="bukan",
            contact_emails="loket@unit-a.go.id\nbukan email",
            parent=child.pk,
            opens_6="25:00",
            closes_1="07:00",
            opens_2="",
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["name"] == ["Bidang ini harus diisi."]
    assert errors["opens_2"] == ["Isi jam buka dan jam tutup sekaligus."]
    assert errors["contact_emails"] == ["Masukkan alamat email yang valid."]
    assert set(errors) >= {"name", "head_email", "contact_emails", "opens_6", "opens_2"}
    # With the fields right, the service's rules speak: a cycle, then hours out of order.
    response = client.post(_unit_url(unit_a), _edit(unit_a, parent=child.pk))
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "parent": [
            "Unit tidak dapat dipindahkan ke bawah dirinya sendiri atau ke bawah salah satu "
            "sub-unitnya."
        ]
    }
    response = client.post(_unit_url(unit_a), _edit(unit_a, closes_1="07:00"))
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "closes_1": ["Pada hari Selasa, jam buka unit harus sebelum jam tutupnya."]
    }
    assert Unit.objects.values().get(pk=unit_a.pk) == before


def test_closing_with_open_services_is_refused_with_a_clear_message(
    agency_a: Any, unit_a: Any, admin_a: Any, client: Client
) -> None:
    make_published(make_service(agency_a, unit_a))
    login_verified(client, admin_a)
    response = client.post(
        _unit_url(unit_a, "agency_admin:unit_close"),
        {"closed_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400
    assert "masih memiliki 1 layanan yang berjalan" in response.content.decode()
    unit_a.refresh_from_db()
    assert unit_a.is_active


@pytest.mark.parametrize("n", [2, 12])
def test_the_unit_pages_have_pinned_query_counts(
    n: int,
    agency_a: Any,
    unit_a: Any,
    admin_a: Any,
    client: Client,
    django_assert_num_queries: Any,
) -> None:
    for i in range(n):
        unit_create(agency=agency_a, name=f"Seksi {i}", parent=unit_a, acting_user=admin_a)
    login_verified(client, admin_a)
    list_url = reverse("agency_admin:units", kwargs={"agency_slug": agency_a.slug})
    client.get(list_url)  # warm the session
    # session; user; device; the privileged-role check; memberships; agency; units; parent
    # choices.
    with django_assert_num_queries(8):
        assert client.get(list_url).status_code == 200
    with django_assert_num_queries(8):
        assert client.get(_unit_url(unit_a)).status_code == 200
