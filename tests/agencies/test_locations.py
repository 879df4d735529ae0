"""Locations and counters: the writes (policy, history, bad input) and the staff pages'
permission matrix (admin of A may, admin of B 404, editor of A 403, ombudsman 403,
anonymous to the login page; refused writes change nothing)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agencies.locations import (
    counter_attach,
    counter_remove,
    haversine_km,
    location_create,
    location_today,
    location_update,
    locations_near,
    parse_point,
)
from agencies.models import Counter, Location
from core.errors import ApplicationError, PermissionDeniedError
from tests import factories
from tests.accounts.conftest import login_verified


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role="agency_admin")
    return user


@pytest.fixture
def mall(agency_a: Any) -> Location:
    return location_create(
        host_agency=agency_a,
        name="Mal Pelayanan Publik Kota A",
        kind="mpp",
        province="Jawa Barat",
        city="Kota A",
        latitude=Decimal("-6.911700"),
        longitude=Decimal("107.634400"),
        weekly_hours={"0": ["08:00", "15:00"], "5": ["08:00", "12:00"]},
        facilities=["lactation_room", "ramp"],
    )


def test_a_location_is_created_and_changed_by_its_host_agencys_admins_only(
    agency_a: Any, admin_a: Any, editor_a: Any, ombudsman: Any, admin_b: Any, mall: Location
) -> None:
    assert mall.slug == "mal-pelayanan-publik-kota-a"
    assert mall.facilities == ["ramp", "lactation_room"]
    for user in (editor_a, ombudsman, admin_b):
        with pytest.raises(PermissionDeniedError):
            location_create(host_agency=agency_a, name="Kantor", kind="office", acting_user=user)
        with pytest.raises(PermissionDeniedError):
            location_update(location=mall, name="Diubah", acting_user=user)
    mall.refresh_from_db()
    assert mall.name == "Mal Pelayanan Publik Kota A"
    location_update(location=mall, name="MPP Kota A", acting_user=admin_a)
    mall.refresh_from_db()
    assert mall.name == "MPP Kota A" and mall.history.latest().history_user == admin_a
    # "near" is a page under /locations/, never a location's slug.
    near = location_create(host_agency=agency_a, name="Near", kind="other", acting_user=admin_a)
    assert near.slug == "near-2"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": None}, "latitude"),
        ({"latitude": Decimal("95"), "longitude": Decimal("100")}, "latitude"),
        ({"weekly_hours": {"0": ["15:00", "08:00"]}}, "weekly_hours"),
        ({"facilities": ["spa"]}, "facilities"),
        ({"kind": "castle"}, "kind"),
    ],
)
def test_bad_location_input_is_refused_and_changes_nothing(
    mall: Location, admin_a: Any, fields: dict[str, Any], field: str
) -> None:
    before = Location.objects.values().get(pk=mall.pk)
    with pytest.raises(ApplicationError) as refused:
        location_update(location=mall, acting_user=admin_a, **fields)
    assert refused.value.field == field
    assert Location.objects.values().get(pk=mall.pk) == before


def test_a_unit_serves_at_a_location_of_another_agency_through_a_counter(
    mall: Location, unit_a: Any, unit_b: Any, admin_a: Any, admin_b: Any, editor_b: Any
) -> None:
    with pytest.raises(PermissionDeniedError):  # not their unit
        counter_attach(unit=unit_b, location=mall, acting_user=admin_a)
    with pytest.raises(PermissionDeniedError):
        counter_attach(unit=unit_b, location=mall, acting_user=editor_b)
    counter = counter_attach(unit=unit_b, location=mall, label="Loket 7", acting_user=admin_b)
    assert counter.history.latest().history_user == admin_b
    with pytest.raises(ApplicationError) as twice:
        counter_attach(unit=unit_b, location=mall, acting_user=admin_b)
    assert twice.value.field == "location"
    counter_attach(unit=unit_a, location=mall, acting_user=admin_a)
    assert set(mall.units.values_list("agency__slug", flat=True)) == {"dinas-a", "dinas-b"}
    # The host's admins may take any counter away from their location.
    counter_remove(counter=counter, acting_user=admin_a)
    assert not Counter.objects.filter(pk=counter.pk).exists()


def test_hours_today_follow_the_weekday_in_wib(mall: Location) -> None:
    import datetime as dt

    saturday = location_today(mall, dt.date(2026, 12, 12))
    assert saturday.weekday == "Sabtu" and saturday.opens_at == dt.time(8, 0)
    assert saturday.closes_at == dt.time(12, 0)
    sunday = location_today(mall, dt.date(2026, 12, 13))
    assert sunday.opens_at is None and sunday.known


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("", "107"), ("abc", "107"), ("-6,9", "1e999"), ("91", "0"), ("0", "-181"), ("nan", "0")],
)
def test_a_bad_point_is_refused_with_a_message(lat: str, lon: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        parse_point(lat, lon)
    assert refused.value.message


def test_a_point_with_a_decimal_comma_is_read() -> None:
    assert parse_point("-6,9175", " 107.6191 ") == (-6.9175, 107.6191)


def test_locations_near_are_ordered_by_haversine_distance(agency_a: Any) -> None:
    places = {
        "Bandung": ("-6.911700", "107.634400"),
        "Jakarta": ("-6.175400", "106.827200"),
        "Surabaya": ("-7.263000", "112.661000"),
    }
    for name, (lat, lon) in places.items():
        location_create(
            host_agency=agency_a,
            name=name,
            kind="office",
            latitude=Decimal(lat),
            longitude=Decimal(lon),
        )
    location_create(host_agency=agency_a, name="Tanpa koordinat", kind="office")
    found = locations_near(-6.2, 106.8)
    assert [p.name for p in found] == ["Jakarta", "Bandung", "Surabaya"]
    for place in found:
        assert place.latitude is not None and place.longitude is not None
        expected = haversine_km(-6.2, 106.8, float(place.latitude), float(place.longitude))
        assert getattr(place, "distance_km") == pytest.approx(expected, rel=1e-6)  # noqa: B009
    assert 110 < getattr(found[1], "distance_km") < 125  # noqa: B009 - Jakarta to Bandung


# --- Staff pages: the permission matrix ----------------------------------------------------


MATRIX = [
    ("anonymous", 302),
    ("admin_a", 200),
    ("admin_b", 404),
    ("editor_a", 403),
    ("ombudsman", 403),
]


def _login(client: Client, cast: dict[str, Any], admin_b: Any, who: str) -> Any:
    users = dict(cast, admin_b=admin_b)
    if users[who] is not None:
        login_verified(client, users[who])
    return users[who]


def _location_form(location: Location, **changes: Any) -> dict[str, Any]:
    data = {
        "name": location.name,
        "kind": "mpp",
        "address": "Jl. Cianjur No. 34",
        "province": "Jawa Barat",
        "city": "Kota A",
        "region_code": "32.73",
        "phone": "",
        "latitude": "-6.911700",
        "longitude": "107.634400",
        "facilities": ["lactation_room", "wheelchair"],
        "facilities_note": "",
        "is_active": "on",
        "opens_5": "08:00",
        "closes_5": "12:00",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_only_the_host_agencys_admin_manages_its_locations(
    who: str,
    expected: int,
    cast: dict[str, Any],
    admin_b: Any,
    agency_a: Any,
    mall: Location,
    client: Client,
) -> None:
    user = _login(client, cast, admin_b, who)
    list_url = reverse("agency_admin:locations", kwargs={"agency_slug": agency_a.slug})
    edit_url = reverse(
        "agency_admin:location", kwargs={"agency_slug": agency_a.slug, "location_slug": mall.slug}
    )
    before = list(Location.objects.order_by("pk").values())
    assert client.get(list_url).status_code == expected
    assert client.get(edit_url).status_code == expected
    created = client.post(list_url, {"name": "Kantor Kecamatan", "kind": "office"})
    edited = client.post(edit_url, _location_form(mall, name="MPP Baru"))
    if expected == 200:
        assert created.status_code == edited.status_code == 302
        assert Location.objects.get(name="Kantor Kecamatan").host_agency == agency_a
        mall.refresh_from_db()
        assert mall.name == "MPP Baru"
        assert mall.weekly_hours == {"5": ["08:00", "12:00"]}
        assert mall.facilities == ["lactation_room", "wheelchair"]
        assert mall.history.latest().history_user == user
    else:
        assert created.status_code == edited.status_code == expected
        assert list(Location.objects.order_by("pk").values()) == before


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_only_the_units_agencys_admin_puts_its_counters(
    who: str,
    expected: int,
    cast: dict[str, Any],
    admin_b: Any,
    unit_a: Any,
    unit_b: Any,
    mall: Location,
    client: Client,
) -> None:
    # Agency B hosts nothing here: the mall is agency A's, the unit too.
    existing = counter_attach(unit=unit_a, location=_other_mall(unit_b.agency), label="Loket 1")
    _login(client, cast, admin_b, who)
    url = reverse(
        "agency_admin:unit_locations",
        kwargs={"agency_slug": unit_a.agency.slug, "unit_slug": unit_a.slug},
    )
    remove_url = reverse(
        "agency_admin:counter_remove",
        kwargs={"agency_slug": unit_a.agency.slug, "counter_id": existing.pk},
    )
    before = list(Counter.objects.order_by("pk").values())
    assert client.get(url).status_code == expected
    attached = client.post(url, {"location": mall.pk, "label": "Loket 12"})
    removed = client.post(remove_url)
    if expected == 200:
        assert attached.status_code == removed.status_code == 302
        counter = Counter.objects.get(unit=unit_a, location=mall)
        assert counter.label == "Loket 12"
        assert not Counter.objects.filter(pk=existing.pk).exists()
    else:
        assert attached.status_code == expected
        # Agency B's admin hosts the other mall: they may take the counter away from it.
        assert removed.status_code == (302 if who == "admin_b" else expected)
        after = list(Counter.objects.order_by("pk").values())
        if who == "admin_b":
            assert after == [c for c in before if c["id"] != existing.pk]
        else:
            assert after == before


def _other_mall(agency: Any) -> Location:
    return location_create(host_agency=agency, name="MPP Kota B", kind="mpp")


def test_bad_location_form_input_gives_indonesian_field_errors(
    agency_a: Any, admin_a: Any, mall: Location, client: Client
) -> None:
    login_verified(client, admin_a)
    url = reverse(
        "agency_admin:location", kwargs={"agency_slug": agency_a.slug, "location_slug": mall.slug}
    )
    before = Location.objects.values().get(pk=mall.pk)
    response = client.post(
        url,
        _location_form(mall, latitude="-95", longitude="", region_code="Bandung", closes_5="07:00"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "latitude" in errors and "region_code" in errors
    assert errors["latitude"] == ["Pastikan nilai ini lebih besar dari atau sama dengan -90."]
    response = client.post(url, _location_form(mall, latitude="-6.9", longitude=""))
    assert response.context["form"].errors == {
        "longitude": ["Isi garis lintang dan garis bujur sekaligus, atau kosongkan keduanya."]
    }
    response = client.post(url, _location_form(mall, closes_5="07:00"))
    assert response.context["form"].errors == {
        "closes_5": ["Pada hari Sabtu, jam buka unit harus sebelum jam tutupnya."]
    }
    assert Location.objects.values().get(pk=mall.pk) == before


@pytest.mark.parametrize("n", [2, 10])
def test_the_staff_location_pages_have_flat_query_counts(
    n: int,
    agency_a: Any,
    admin_a: Any,
    mall: Location,
    client: Client,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(n):
        unit: Any = factories.UnitFactory(agency=agency_a)
        counter_attach(unit=unit, location=mall, label=f"Loket {i}")
        location_create(host_agency=agency_a, name=f"Kantor {i}", kind="office")
    login_verified(client, admin_a)
    list_url = reverse("agency_admin:locations", kwargs={"agency_slug": agency_a.slug})
    edit_url = reverse(
        "agency_admin:location", kwargs={"agency_slug": agency_a.slug, "location_slug": mall.slug}
    )
    client.get(list_url)  # warm the session
    with django_assert_max_num_queries(8):
        assert client.get(list_url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(edit_url).status_code == 200
    unit_url = reverse(
        "agency_admin:unit_locations", kwargs={"agency_slug": agency_a.slug, "unit_slug": unit.slug}
    )
    with django_assert_max_num_queries(8):
        assert client.get(unit_url).status_code == 200
