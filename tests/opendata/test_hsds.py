"""Open Referral HSDS 3.0: every document the API serves validates against the compiled
JSON Schemas of the shared fixtures, on the demo and on odd services; pagination, errors,
stable identifiers, the mapping, and query counts flat in data size."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.locations import counter_attach, location_create
from opendata import hsds
from services.models import Service
from tests.factories import AgencyFactory, UnitFactory
from tests.opendata import conftest as opendata_conftest
from tests.registry import make_published, make_service

pytestmark = pytest.mark.django_db

ROOT = "/opendata/hsds"


def _get(client: Any, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{ROOT}{path}", params)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/json"
    return response.json()


def _all_pages(client: Any, path: str, per_page: int = 7) -> list[dict[str, Any]]:
    """Every page of a list, each page checked against the API's Page."""
    contents: list[dict[str, Any]] = []
    number = 1
    while True:
        page = _get(client, path, page=number, per_page=per_page)
        assert page["page_number"] == number
        assert page["size"] == len(page["contents"])
        contents.extend(page["contents"])
        if page["last_page"]:
            assert len(contents) == page["total_items"]
            return contents
        number += 1


def _crawl(client: Any, hsds_errors: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read and validate every document: the lists, each service and each organization."""
    errors: list[str] = []
    for path in ("/services", "/organizations"):
        errors += hsds_errors("page", _get(client, path))
    services = _all_pages(client, "/services")
    organizations = _all_pages(client, "/organizations")
    for item in services:
        errors += hsds_errors("service_list", item)
    for item in organizations:
        errors += hsds_errors("organization_list", item)
    full_services = [_get(client, f"/services/{item['id']}") for item in services]
    for document in full_services:
        errors += hsds_errors("service", document)
    full_organizations = [_get(client, f"/organizations/{item['id']}") for item in organizations]
    for document in full_organizations:
        errors += hsds_errors("organization", document)
    assert not errors, "\n".join(errors[:40])
    return full_services, full_organizations


def _ids(document: Any) -> list[str]:
    """Every `id` in a document, however deep."""
    found: list[str] = []
    if isinstance(document, dict):
        if isinstance(document.get("id"), str):
            found.append(document["id"])
        for value in document.values():
            found.extend(_ids(value))
    elif isinstance(document, list):
        for value in document:
            found.extend(_ids(value))
    return found


def _odd_world() -> dict[str, Any]:
    """Services at the edges of what the registry allows."""
    agency = AgencyFactory(
        region_code="", region_name="", website="https://dinas.example.id", email="", phone=""
    )
    # No address, no coordinates, no counter: its services have no location at all.
    bare = UnitFactory(agency=agency, phone="", contact_emails=["not an email"], address="")
    # An office with facilities, hours on Monday, Tuesday and Saturday only, and a counter at a
    # public service mall that has no opening hours recorded.
    office: Any = UnitFactory(
        agency=agency,
        address="Jl. Merdeka No. 1, Bandung 40111",
        latitude="-6.914744",
        longitude="107.609810",
        phone="022-123456",
        facilities=["ramp", "lactation_room", "wheelchair"],
        facilities_note="Kursi tunggu prioritas untuk lansia",
        weekly_hours={"0": ["08:00", "12:00"], "1": ["08:00", "12:00"], "5": ["09:00", "11:00"]},
    )
    host: Any = AgencyFactory(name="Pemkot", region_name="Kota Bandung")
    mall = location_create(
        host_agency=host,
        name="MPP Kota Bandung",
        kind="mpp",
        address="Jl. Asia Afrika 2",
        city="Kota Bandung",
        province="Jawa Barat",
        facilities=["priority_counter", "children_area"],
        weekly_hours={},
    )
    counter_attach(unit=office, location=mall, label="Loket 12")
    free = make_service(agency, bare, "Gratis tanpa syarat", channels=[], keywords="")
    hours = make_service(
        agency, office, "Janji jam", channels=["counter", "online", "mobile"], summary=""
    )
    paid = make_service(agency, office, "Berbayar", channels=["online"])
    make_published(
        free,
        {"requirements": [], "steps": [], "complaint_channels": []},
        is_free=True,
        legal_basis=[],
        processing_time_value=14,
        processing_time_unit="calendar_days",
    )
    make_published(
        hours,
        {
            "complaint_channels": [
                {"kind": "phone", "value": "022-000"},
                {"kind": "whatsapp", "value": "0812-0000-0000"},
                {"kind": "email", "value": "aduan@dinas.example.id"},
                {"kind": "email", "value": "bukan email"},
                {"kind": "web", "value": "https://lapor.go.id"},
                {"kind": "lapor", "value": "SP4N-LAPOR!"},
                {"kind": "box", "value": "Lobi"},
            ]
        },
        processing_time_value=3,
        processing_time_unit="hours",
    )
    make_published(
        paid,
        {
            "cost_items": [
                {"name": "Retribusi", "amount": 150000, "legal_basis": "Perda 1/2020"},
                {"name": "Materai", "amount": 10000},
            ],
            "requirements": [{"name": "KTP-el", "copies": "1 lembar"}] * 12,
        },
        is_free=False,
        processing_time_value=30,
        processing_time_unit="minutes",
    )
    # A service without a published standard is not in the data.
    make_service(agency, office, "Masih draf")
    return {"agency": agency, "free": free, "hours": hours, "paid": paid, "mall": mall}


# --- Validation -------------------------------------------------------------------------------


def test_odd_services_validate_against_the_hsds_schemas(client: Any, hsds_errors: Any) -> None:
    world = _odd_world()
    services, organizations = _crawl(client, hsds_errors)
    assert {s["name"] for s in services} == {"Gratis tanpa syarat", "Janji jam", "Berbayar"}
    assert len(organizations) == 2
    by_name = {s["name"]: s for s in services}
    assert by_name["Gratis tanpa syarat"]["service_at_locations"] == []
    assert by_name["Gratis tanpa syarat"]["required_documents"] == []
    assert "email" not in by_name["Gratis tanpa syarat"]
    agency = next(
        o for o in organizations if o["id"] == hsds.entity_id("organization", world["agency"].pk)
    )
    assert {s["name"] for s in agency["services"]} == {s["name"] for s in services}
    assert {loc["name"] for loc in agency["locations"]} >= {"MPP Kota Bandung"}


def test_demo_catalogue_validates_against_the_hsds_schemas(client: Any, hsds_errors: Any) -> None:
    from demo.locations import seed_locations
    from demo.management.commands.seed_demo import seed_registry

    seed_registry()
    seed_locations()
    services, organizations = _crawl(client, hsds_errors)
    assert len(services) > 10
    assert len(organizations) >= 3
    # The demo's places carry facilities for vulnerable groups and opening hours.
    locations = [sal["location"] for s in services for sal in s["service_at_locations"]]
    assert any(loc.get("accessibility") for loc in locations)
    assert any(loc.get("schedules") for loc in locations)


def test_the_schemas_catch_a_broken_document(client: Any, unit_a: Any, hsds_errors: Any) -> None:
    """The validation can fail: so "no errors" above means something."""
    make_published(make_service(unit_a.agency, unit_a))
    item = _get(client, "/services")["contents"][0]
    document = _get(client, f"/services/{item['id']}")
    assert hsds_errors("service", document) == []
    del document["name"]
    document["id"] = "42"
    document["status"] = "open"
    document["cost_options"][0]["id"] = "not-a-uuid"
    document["url"] = "no scheme"
    errors = "\n".join(hsds_errors("service", document))
    assert "'name' is a required property" in errors
    assert "'42' is not a 'uuid'" in errors
    assert "'open' is not one of" in errors
    assert "$.cost_options[0].id" in errors
    assert "'no scheme' is not a 'uri'" in errors


# --- The endpoints ----------------------------------------------------------------------------


def test_index_says_what_the_api_is(client: Any) -> None:
    document = _get(client, "/")
    assert document["version"] == "3.0"
    assert document["openapi_url"].endswith("/3.0/schema/openapi.json")
    assert document["profile"].startswith("https://")
    assert document["publisher"]["website"] == "http://testserver/"


def test_services_are_paginated(client: Any, unit_a: Any) -> None:
    for n in range(5):
        make_published(make_service(unit_a.agency, unit_a, f"Layanan {n}"))
    pages = [_get(client, "/services", page=n, per_page=2) for n in (1, 2, 3)]
    assert [p["size"] for p in pages] == [2, 2, 1]
    assert {p["total_items"] for p in pages} == {5}
    assert {p["total_pages"] for p in pages} == {3}
    assert [p["first_page"] for p in pages] == [True, False, False]
    assert [p["last_page"] for p in pages] == [False, False, True]
    assert not any(p["empty"] for p in pages)
    names = [item["name"] for p in pages for item in p["contents"]]
    assert sorted(names) == [f"Layanan {n}" for n in range(5)]
    beyond = _get(client, "/services", page=4, per_page=2)
    assert beyond["contents"] == [] and beyond["empty"] is True and beyond["last_page"] is True
    default = _get(client, "/services")
    assert default["size"] == 5 and default["first_page"] and default["last_page"]


def test_an_empty_registry_is_an_empty_page(client: Any, db: Any) -> None:
    page = _get(client, "/services")
    assert page == {
        "total_items": 0,
        "total_pages": 1,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "contents": [],
    }


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "x"}, "page"),
        ({"page": "0"}, "page"),
        ({"per_page": "-3"}, "per_page"),
        ({"per_page": "100000"}, "per_page"),
        ({"organization_id": "nope"}, "organization_id"),
    ],
)
def test_bad_parameters_are_a_problem(client: Any, db: Any, params: Any, parameter: str) -> None:
    response = client.get(f"{ROOT}/services", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["code"] == "invalid"
    assert [e["parameter"] for e in body["errors"]] == [parameter]


def test_services_filtered_by_organization(client: Any, unit_a: Any, unit_b: Any) -> None:
    make_published(make_service(unit_a.agency, unit_a, "Layanan A"))
    make_published(make_service(unit_b.agency, unit_b, "Layanan B"))
    page = _get(
        client, "/services", organization_id=hsds.entity_id("organization", unit_b.agency.pk)
    )
    assert [item["name"] for item in page["contents"]] == ["Layanan B"]


@pytest.mark.parametrize("kind", ["services", "organizations"])
def test_unknown_ids_are_404_problems(client: Any, unit_a: Any, kind: str) -> None:
    draft_only = make_service(unit_a.agency, unit_a, "Belum terbit")
    unknown = [
        str(uuid.uuid4()),
        "not-a-uuid",
        hsds.entity_id("service" if kind == "organizations" else "organization", unit_a.agency.pk),
        hsds.entity_id("service" if kind == "services" else "organization", 999_999),
    ]
    if kind == "services":
        unknown.append(hsds.entity_id("service", draft_only.pk))
    for value in unknown:
        response = client.get(f"{ROOT}/{kind}/{value}")
        assert response.status_code == 404, value
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 404 and body["code"] == "not_found" and body["detail"]


def test_writes_are_refused(client: Any, db: Any) -> None:
    assert client.post(f"{ROOT}/services").status_code == 405


# --- Identifiers ------------------------------------------------------------------------------


def test_identifiers_are_stable_uuids() -> None:
    # Pinned: a published identifier must never change.
    assert hsds.entity_id("service", 1) == hsds.entity_id("service", 1)
    service_42 = hsds.entity_id("service", 42)
    assert service_42 == PINNED_SERVICE_42
    assert hsds.entity_id("organization", 42) == PINNED_ORGANIZATION_42
    assert hsds.child_id("schedule", "unit/1", "08:00+07:00", "16:00+07:00") == PINNED_SCHEDULE
    parsed = uuid.UUID(service_42)
    assert parsed.version == 8 and parsed.variant == uuid.RFC_4122
    assert hsds.decode_id("service", service_42) == 42
    assert hsds.decode_id("organization", service_42) is None
    assert hsds.decode_id("service", str(uuid.uuid4())) is None
    assert hsds.decode_id("service", "42") is None
    big = 2**31 - 1
    assert hsds.decode_id("service", hsds.entity_id("service", big)) == big


PINNED_SERVICE_42 = "0c9825c1-157b-856e-8000-00000000002a"
PINNED_ORGANIZATION_42 = "b16606ca-dcce-8701-8000-00000000002a"
PINNED_SCHEDULE = "c3a832f3-90f9-5bcc-91e5-6c9f28a9798e"


def test_documents_are_the_same_on_every_read_and_ids_unique(client: Any) -> None:
    world = _odd_world()
    path = f"/services/{hsds.entity_id('service', world['hours'].pk)}"
    first, second = _get(client, path), _get(client, path)
    assert first == second
    ids = _ids({k: v for k, v in first.items() if k != "organization"})
    # The same location may appear under two services, never twice in one.
    assert len(ids) == len(set(ids))


# --- The mapping ------------------------------------------------------------------------------


def test_a_service_maps_the_standard(client: Any) -> None:
    world = _odd_world()
    hours = _get(client, f"/services/{hsds.entity_id('service', world['hours'].pk)}")
    assert hours["status"] == "active"
    assert hours["wait_time"] == "3 jam"
    assert hours["application_process"].startswith("Saluran: ")
    assert hours["organization"]["id"] == hours["organization_id"]
    assert hours["url"] == f"http://testserver{world['hours'].get_absolute_url()}"
    complaint_phones = [
        p for p in hours["phones"] if p.get("description", "").startswith("Pengaduan")
    ]
    assert sorted(p["number"] for p in complaint_phones) == ["022-000", "0812-0000-0000"]
    assert [c["email"] for c in hours["contacts"]] == ["aduan@dinas.example.id"]
    assert hours["cost_options"] == [
        {
            "id": hsds.child_id("cost_option", world["hours"].pk, "free"),
            "service_id": hours["id"],
            "option": "Gratis",
            "currency": "IDR",
            "amount": 0,
        }
    ]
    # Two locations: the unit's office and its counter at the mall.
    locations = {sal["location"]["name"]: sal for sal in hours["service_at_locations"]}
    assert set(locations) == {world["hours"].unit.name, "MPP Kota Bandung"}
    office = locations[world["hours"].unit.name]["location"]
    assert office["location_type"] == "physical"
    assert office["latitude"] == pytest.approx(-6.914744)
    assert office["addresses"][0]["postal_code"] == "40111"
    assert office["addresses"][0]["country"] == "ID"
    assert [a["description"] for a in office["accessibility"]] == [
        "Bidang miring (ramp)",
        *[a["description"] for a in office["accessibility"][1:3]],
        "Kursi tunggu prioritas untuk lansia",
    ]
    assert [a.get("details") for a in office["accessibility"][:3]] == [
        "ramp",
        "lactation_room",
        "wheelchair",
    ]
    assert {a["location_id"] for a in office["accessibility"]} == {office["id"]}
    schedules = {s["byday"]: s for s in office["schedules"]}
    assert set(schedules) == {"MO,TU", "SA"}
    assert schedules["MO,TU"]["opens_at"] == "08:00+07:00"
    assert schedules["MO,TU"]["closes_at"] == "12:00+07:00"
    assert schedules["SA"]["freq"] == "WEEKLY" and schedules["SA"]["timezone"] == 7
    assert hours["schedules"] and {s["byday"] for s in hours["schedules"]} == {"MO,TU", "SA"}
    mall = locations["MPP Kota Bandung"]
    assert mall["description"] == "Loket 12"
    assert mall["location"]["schedules"] == []  # no opening hours recorded
    assert [a["details"] for a in mall["location"]["accessibility"]] == [
        "priority_counter",
        "children_area",
    ]

    paid = _get(client, f"/services/{hsds.entity_id('service', world['paid'].pk)}")
    assert [(c["option"], c["amount"], c["currency"]) for c in paid["cost_options"]] == [
        ("Retribusi", 150000, "IDR"),
        ("Materai", 10000, "IDR"),
    ]
    assert paid["cost_options"][0]["amount_description"] == "Perda 1/2020"
    assert paid["fees_description"] == "Retribusi: Rp150.000; Materai: Rp10.000."
    assert paid["wait_time"] == "30 menit"
    assert len(paid["required_documents"]) == 12
    assert paid["required_documents"][0]["document"] == "KTP-el (1 lembar)"


def test_a_unit_on_calendar_hours_gets_its_working_days(client: Any, unit_a: Any) -> None:
    unit_a.address = "Jl. Braga 1"
    unit_a.opens_at, unit_a.closes_at = dt.time(7, 30), dt.time(15, 0)
    unit_a.save()
    service = make_service(unit_a.agency, unit_a)
    make_published(service)
    document = _get(client, f"/services/{hsds.entity_id('service', service.pk)}")
    [schedule] = document["schedules"]
    assert schedule["byday"] == "MO,TU,WE,TH,FR"
    assert (schedule["opens_at"], schedule["closes_at"]) == ("07:30+07:00", "15:00+07:00")
    assert document["service_at_locations"][0]["location"]["schedules"][0]["byday"] == (
        "MO,TU,WE,TH,FR"
    )


# --- Query counts -----------------------------------------------------------------------------


def _queries(client: Any, path: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        _get(client, path, **params)
    return len(captured)


def _grow(agency: Any, units: int, services_per_unit: int) -> None:
    mall = location_create(host_agency=agency, name=f"MPP {units}", kind="mpp", address="Jl. 1")
    for u in range(units):
        unit: Any = UnitFactory(agency=agency, address=f"Jl. {u}", facilities=["ramp"])
        counter_attach(unit=unit, location=mall)
        for s in range(services_per_unit):
            make_published(
                make_service(agency, unit, f"Layanan {units}-{u}-{s}", channels=["counter"]),
                {"requirements": [{"name": f"Syarat {n}"} for n in range(s + 1)]},
            )


def test_query_counts_are_pinned_and_flat_in_data_size(client: Any, db: Any) -> None:
    agency: Any = AgencyFactory()
    _grow(agency, 1, 1)
    service: Any = Service.objects.get()
    small = {
        "list": _queries(client, "/services"),
        "service": _queries(client, f"/services/{hsds.entity_id('service', service.pk)}"),
        "organizations": _queries(client, "/organizations"),
        "organization": _queries(
            client, f"/organizations/{hsds.entity_id('organization', agency.pk)}"
        ),
    }
    # Pinned: count, services with agency and unit, published versions, then one per
    # kind of child; a service adds its calendars' fallback and the places of its unit; an
    # organization reads its units, places and services.
    assert small == {"list": 7, "service": 8, "organizations": 2, "organization": 10}
    _grow(agency, 4, 3)
    service = Service.objects.order_by("-pk").first()
    assert service is not None
    large = {
        "list": _queries(client, "/services"),
        "service": _queries(client, f"/services/{hsds.entity_id('service', service.pk)}"),
        "organizations": _queries(client, "/organizations"),
        "organization": _queries(
            client, f"/organizations/{hsds.entity_id('organization', agency.pk)}"
        ),
    }
    assert large == small


# --- The fixtures' own rule -------------------------------------------------------------------


def test_a_missing_fixture_skips_outside_make_test_and_fails_inside(
    monkeypatch: Any, tmp_path: Any
) -> None:
    monkeypatch.setenv(opendata_conftest.FIXTURES_VARIABLE, str(tmp_path))
    monkeypatch.delenv(opendata_conftest.REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        opendata_conftest.shared_fixture("hsds-3/service.json")
    assert f"hsds-3/service.json not found under {tmp_path}" in str(skipped.value)
    assert opendata_conftest.FIXTURES_VARIABLE in str(skipped.value)
    monkeypatch.setenv(opendata_conftest.REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        opendata_conftest.shared_fixture("hsds-3/service.json")
    assert f"hsds-3/service.json not found under {tmp_path}" in str(failed.value)
    assert "make test" in str(failed.value)


def test_documents_are_plain_json(client: Any) -> None:
    _odd_world()
    item = _get(client, "/services")["contents"][0]
    response = client.get(f"{ROOT}/services/{item['id']}")
    assert json.loads(response.content.decode("utf-8"))["id"] == item["id"]
    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize(
    ("prefix", "heading"),
    [("", "Direktori layanan (HSDS)"), ("/en", "Directories of services (HSDS)")],
)
def test_the_open_data_page_points_to_the_hsds_api(
    client: Any, db: Any, prefix: str, heading: str
) -> None:
    html = client.get(f"{prefix}/opendata/").content.decode()
    assert heading in html
    assert f'href="{ROOT}/"' in html
