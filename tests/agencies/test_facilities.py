"""Facilities for vulnerable groups (component 8) on units: edited by the agency's admins,
every change in the unit's history, shown on the public unit page with icons and text, and
searchable (by filter and by name in the query)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agencies.facilities import facilities_clean, facility_in_query
from agencies.models import Unit
from agencies.services import unit_update
from core.errors import ApplicationError, PermissionDeniedError
from services.search import SearchFilters, service_search
from tests import factories
from tests.accounts.conftest import login_verified
from tests.registry import publish_service


def test_facilities_are_stored_known_once_and_in_order() -> None:
    assert facilities_clean(["wheelchair", "ramp", "ramp"]) == ["ramp", "wheelchair"]
    with pytest.raises(ApplicationError) as refused:
        facilities_clean(["ramp", "jacuzzi"])
    assert refused.value.field == "facilities"
    with pytest.raises(ApplicationError):
        facilities_clean("ramp")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("layanan dengan ruang laktasi", ("lactation_room", "")),
        ("Ruang Laktasi", ("lactation_room", "")),
        ("KTP ruang menyusui", ("lactation_room", "ktp")),
        ("services with a lactation room", ("lactation_room", "")),
        ("kantor dengan kursi roda", ("wheelchair", "")),
        ("loket prioritas paspor", ("priority_counter", "paspor")),
        ("akta kelahiran", ("", "akta kelahiran")),
        ("landaian", ("", "landaian")),  # a whole word only
    ],
)
def test_a_facility_named_in_the_query_becomes_the_filter(
    query: str, expected: tuple[str, str]
) -> None:
    assert facility_in_query(query) == expected


def test_only_the_agencys_admin_sets_a_units_facilities_and_it_is_audited(
    unit_a: Any, admin_a: Any, editor_a: Any, ombudsman: Any, agency_b: Any
) -> None:
    admin_b = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin_b, agency=agency_b, role="agency_admin")
    for user in (editor_a, ombudsman, admin_b):
        with pytest.raises(PermissionDeniedError):
            unit_update(unit=unit_a, facilities=["ramp"], acting_user=user)
    with pytest.raises(ApplicationError):
        unit_update(unit=unit_a, facilities=["sauna"], acting_user=admin_a)
    unit_a.refresh_from_db()
    assert unit_a.facilities == []

    unit_update(
        unit=unit_a,
        facilities=["lactation_room", "ramp"],
        facilities_note="Parkir khusus difabel",
        acting_user=admin_a,
    )
    unit_a.refresh_from_db()
    assert unit_a.facilities == ["ramp", "lactation_room"]
    latest = unit_a.history.latest()
    assert latest.history_user == admin_a and latest.facilities == ["ramp", "lactation_room"]


def _form(unit: Unit, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": unit.name,
        "parent": "",
        "contact_emails": "",
        "calendar": "",
        "facilities": ["lactation_room", "wheelchair"],
        "facilities_note": "Juru bahasa isyarat atas permintaan\r\n",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("admin_a", 302), ("admin_b", 404), ("editor_a", 403), ("ombudsman", 403)],
)
def test_the_unit_edit_page_saves_facilities_for_the_agencys_admin_only(
    who: str, expected: int, cast: dict[str, Any], agency_b: Any, unit_a: Any, client: Client
) -> None:
    users = dict(cast)
    users["admin_b"] = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=users["admin_b"], agency=agency_b, role="agency_admin")
    if users[who] is not None:
        login_verified(client, users[who])
    url = reverse(
        "agency_admin:unit", kwargs={"agency_slug": unit_a.agency.slug, "unit_slug": unit_a.slug}
    )
    before = Unit.objects.values().get(pk=unit_a.pk)
    response = client.post(url, _form(unit_a))
    assert response.status_code == expected
    unit_a.refresh_from_db()
    if who == "admin_a":
        assert unit_a.facilities == ["lactation_room", "wheelchair"]
        assert unit_a.facilities_note == "Juru bahasa isyarat atas permintaan"
        assert unit_a.history.latest().history_user == users[who]
    else:
        assert Unit.objects.values().get(pk=unit_a.pk) == before


def test_an_unknown_facility_is_a_field_error_in_indonesian(
    unit_a: Any, admin_a: Any, client: Client
) -> None:
    login_verified(client, admin_a)
    url = reverse(
        "agency_admin:unit", kwargs={"agency_slug": unit_a.agency.slug, "unit_slug": unit_a.slug}
    )
    response = client.post(url, _form(unit_a, facilities=["ramp", "kolam renang"]))
    assert response.status_code == 400
    assert "kolam renang" in response.context["form"].errors["facilities"][0]
    assert "Masukkan pilihan yang valid" in response.context["form"].errors["facilities"][0]
    unit_a.refresh_from_db()
    assert unit_a.facilities == []


def test_the_public_unit_page_lists_facilities_with_icons_and_text(
    client: Client, unit_a: Any, admin_a: Any
) -> None:
    html = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Belum ada fasilitas bagi kelompok rentan yang dicatat." in html
    unit_update(
        unit=unit_a,
        facilities=["ramp", "lactation_room"],
        facilities_note="Parkir khusus",
        acting_user=admin_a,
    )
    html = client.get(unit_a.get_absolute_url()).content.decode()
    assert "Fasilitas bagi kelompok rentan" in html
    assert '<li data-facility="ramp"><svg class="facility-icon"' in html
    assert 'aria-hidden="true"' in html
    assert "<span>Ruang laktasi</span>" in html and "<span>Bidang miring (ramp)</span>" in html
    assert "Parkir khusus" in html
    english = client.get("/en" + unit_a.get_absolute_url()).content.decode()
    assert "<span>Lactation room</span>" in english


def test_search_finds_services_at_units_with_a_facility(
    client: Client, agency_a: Any, unit_a: Any, admin_a: Any
) -> None:
    other = factories.UnitFactory(agency=agency_a, slug="unit-tanpa")
    publish_service(agency_a, unit_a, "Penerbitan Akta Kelahiran")
    publish_service(agency_a, other, "Penerbitan Kartu Keluarga")
    unit_update(unit=unit_a, facilities=["lactation_room"], acting_user=admin_a)

    def names(**filters: Any) -> list[str]:
        return [s.name for s in service_search(filters=SearchFilters(**filters))]

    assert names(facility="lactation_room") == ["Penerbitan Akta Kelahiran"]
    assert names(facility="wheelchair") == []
    assert len(names()) == 2
    for params in (
        {"facility": "lactation_room"},
        {"q": "layanan dengan ruang laktasi"},
        {"q": "akta ruang laktasi"},
    ):
        page = client.get(reverse("public:search"), params)
        assert page.status_code == 200
        assert [s.name for s in page.context["services"]] == ["Penerbitan Akta Kelahiran"], params
    page = client.get(reverse("public:search"), {"q": "kartu keluarga ruang laktasi"})
    assert "Penerbitan Kartu Keluarga" not in [s.name for s in page.context["services"]]
    # A facility the form does not know is dropped, as any bad filter is.
    page = client.get(reverse("public:search"), {"facility": "kolam"})
    assert page.status_code == 200 and len(page.context["services"]) == 2


@pytest.mark.parametrize("count", [3, 30])
def test_the_facility_search_has_a_constant_query_count(
    client: Client,
    django_assert_num_queries: Any,
    agency_a: Any,
    unit_a: Any,
    admin_a: Any,
    count: int,
) -> None:
    unit_update(unit=unit_a, facilities=["lactation_room"], acting_user=admin_a)
    for n in range(count):
        publish_service(agency_a, unit_a, f"Izin Nomor {n}")
    # agencies for the form; count; page of services; their current versions.
    with django_assert_num_queries(4):
        response = client.get(reverse("public:search"), {"q": "izin ruang laktasi"})
    assert response.context["page"].paginator.count == count
