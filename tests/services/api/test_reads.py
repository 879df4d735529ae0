"""Public reads: response shapes, filters, constant query counts, charters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from charter.services import charter_draft_create, charter_publish
from tests.factories import AgencyFactory, UnitFactory
from tests.problems import problem, problem_fields
from tests.registry import make_draft, make_published, make_service, republish


def _names(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {s["name"] for s in response.json()["results"]}


# --- Agencies and units ---------------------------------------------------------------


def test_agency_list_and_detail_by_slug_with_active_units(
    api: APIClient, unit_a: Any, published_a: Any
) -> None:
    UnitFactory(agency=unit_a.agency, slug="tutup", name="Unit Tutup", is_active=False)

    listed = api.get("/api/v1/agencies/")
    assert listed.status_code == 200
    body = listed.json()
    assert len(body["results"]) == 1 and body["next"] is None
    detail = api.get("/api/v1/agencies/dinas-a/")
    assert detail.status_code == 200
    agency = detail.json()
    assert agency == body["results"][0]
    assert agency["slug"] == "dinas-a"
    assert agency["name"] == "Dinas A"
    assert agency["published_services"] == 1
    assert [u["slug"] for u in agency["units"]] == ["unit-a"]
    assert set(agency["units"][0]) == {
        "id",
        "slug",
        "name",
        "address",
        "phone",
        "opens_at",
        "closes_at",
    }
    # Internal addresses are not published.
    assert "head_email" not in agency

    assert api.get("/api/v1/agencies/tidak-ada/").status_code == 404


def test_units_list_filters_by_agency_and_hides_internal_contacts(
    api: APIClient, unit_a: Any, unit_b: Any
) -> None:
    all_units = api.get("/api/v1/units/").json()["results"]
    assert {u["slug"] for u in all_units} == {"unit-a", "unit-b"}
    only_a = api.get("/api/v1/units/", {"agency": "dinas-a"}).json()["results"]
    assert [u["slug"] for u in only_a] == ["unit-a"]
    unit = api.get(f"/api/v1/units/{unit_a.pk}/").json()
    assert unit["agency"]["slug"] == "dinas-a"
    assert unit["opens_at"] == "08:00"  # HH:MM, the schema's pattern (not RFC 3339 time)
    assert "contact_emails" not in unit and "head_email" not in unit


# --- Services -----------------------------------------------------------------------------


def test_service_detail_nests_the_published_version_with_its_content(
    api: APIClient, published_a: Any
) -> None:
    response = api.get(f"/api/v1/services/{published_a.service_id}/")
    assert response.status_code == 200
    service = response.json()
    assert service["name"] == "KTP Elektronik"
    assert service["agency"] == {
        "id": published_a.service.agency_id,
        "slug": "dinas-a",
        "name": "Dinas A",
        "short_name": "",
    }
    assert service["unit"]["slug"] == "unit-a"
    assert service["channels"] == ["counter"]
    version = service["current_version"]
    assert version["id"] == published_a.pk
    assert version["status"] == "published"
    assert version["decree_number"] == "SK 1/2025"
    assert version["processing_time_value"] == 5
    assert version["processing_time_unit"] == "working_days"
    assert version["legal_basis"] == ["UU 25/2009"]
    assert [r["name"] for r in version["requirements"]] == ["KTP-el", "Kartu Keluarga"]
    assert version["requirements"][0] == {
        "name": "KTP-el",
        "is_mandatory": True,
        "where_to_get": "",
        "copies": "",
        "legal_basis": "",
    }
    assert version["steps"] == [
        {
            "actor": "Petugas",
            "description": "Memeriksa berkas",
            "duration_value": None,
            "duration_unit": "minutes",
        }
    ]
    assert version["cost_items"] == []
    assert version["complaint_channels"] == [{"kind": "phone", "value": "022-000"}]
    assert version["completeness"] == {
        "score": 14,
        "total": 14,
        "percent": 100,
        "is_complete": True,
        "missing": [],
    }


def test_completeness_lists_the_missing_component_keys(api: APIClient, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a, "Surat Keterangan")
    make_published(service, product="", staff_count=None)
    version = api.get(f"/api/v1/services/{service.pk}/").json()["current_version"]
    assert version["completeness"]["score"] == 12
    assert version["completeness"]["is_complete"] is False
    assert version["completeness"]["missing"] == ["product", "staff_count"]
    listed = api.get("/api/v1/services/").json()["results"]
    assert listed[0]["current_version"]["completeness_score"] == 12


def test_service_list_shape(api: APIClient, published_a: Any) -> None:
    body = api.get("/api/v1/services/").json()
    # Cursor pagination: no total count (it would cost a full scan on every page).
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 1
    item = body["results"][0]
    assert set(item) == {
        "id",
        "slug",
        "name",
        "agency",
        "unit",
        "category",
        "channels",
        "keywords",
        "summary",
        "current_version",
    }
    summary = item["current_version"]
    assert summary["id"] == published_a.pk
    assert summary["is_free"] is True
    assert summary["total_cost"] == 0
    assert summary["completeness_score"] == 14
    assert "requirements" not in summary


@pytest.fixture
def catalogue(unit_a: Any, unit_b: Any) -> dict[str, Any]:
    agency_a, agency_b = unit_a.agency, unit_b.agency
    ktp = make_service(agency_a, unit_a, "KTP", category="population", channels=["counter"])
    make_published(ktp)  # free, 5 working days
    pbg = make_service(agency_a, unit_a, "PBG", category="building", channels=["online", "counter"])
    # v1 was free; the current v2 costs money: only the current version counts.
    first = make_published(pbg, processing_time_value=14)
    republish(first, is_free=False, cost_items=[{"name": "Retribusi", "amount": 100_000}])
    izin = make_service(agency_a, unit_a, "Izin Usaha", category="licensing", channels=["online"])
    # Not marked free, but nothing to pay: free as far as the citizen is concerned.
    make_published(izin, is_free=False, processing_time_value=2, processing_time_unit="hours")
    puskesmas = make_service(agency_b, unit_b, "Puskesmas", category="health", channels=["mobile"])
    make_published(puskesmas, processing_time_value=3, processing_time_unit="calendar_days")
    hidden = make_service(agency_a, unit_a, "Masih Draf", category="population")
    make_draft(hidden)
    return {"ktp": ktp, "pbg": pbg, "izin": izin, "puskesmas": puskesmas, "hidden": hidden}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"KTP", "PBG", "Izin Usaha", "Puskesmas"}),
        ({"agency": "dinas-a"}, {"KTP", "PBG", "Izin Usaha"}),
        ({"agency": "dinas-b"}, {"Puskesmas"}),
        ({"agency": "tidak-ada"}, set()),
        ({"category": "population"}, {"KTP"}),
        ({"channel": "counter"}, {"KTP", "PBG"}),
        ({"channel": "online"}, {"PBG", "Izin Usaha"}),
        ({"channel": "mobile"}, {"Puskesmas"}),
        ({"free": "true"}, {"KTP", "Izin Usaha", "Puskesmas"}),
        ({"free": "false"}, {"PBG"}),
        ({"max_processing_time": "5"}, {"KTP"}),
        ({"max_processing_time": "14"}, {"KTP", "PBG"}),
        ({"max_processing_time": "4"}, set()),
        ({"max_processing_time": "3", "processing_time_unit": "calendar_days"}, {"Puskesmas"}),
        ({"max_processing_time": "2", "processing_time_unit": "hours"}, {"Izin Usaha"}),
        ({"agency": "dinas-a", "free": "true", "channel": "online"}, {"Izin Usaha"}),
        ({"search": "izin"}, {"Izin Usaha"}),
    ],
)
def test_service_filters(
    api: APIClient, catalogue: dict[str, Any], params: dict[str, str], expected: set[str]
) -> None:
    assert _names(api.get("/api/v1/services/", params)) == expected


def test_the_free_filter_reads_the_current_version_only(
    api: APIClient, catalogue: dict[str, Any]
) -> None:
    pbg = api.get(f"/api/v1/services/{catalogue['pbg'].pk}/").json()
    assert pbg["current_version"]["number"] == 2
    assert pbg["current_version"]["total_cost"] == 100_000
    assert pbg["current_version"]["cost_items"] == [
        {"name": "Retribusi", "amount": 100_000, "legal_basis": ""}
    ]
    versions = api.get(f"/api/v1/services/{catalogue['pbg'].pk}/versions/").json()["results"]
    assert [(v["number"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]


@pytest.mark.parametrize(
    "params",
    [
        {"category": "bogus"},
        {"channel": "fax"},
        {"max_processing_time": "abc"},
        {"max_processing_time": "-1"},
        {"processing_time_unit": "weeks"},
        {"unit": "x"},
    ],
)
def test_bad_filter_values_answer_400_with_the_error_shape(
    api: APIClient, published_a: Any, params: dict[str, str]
) -> None:
    response = api.get("/api/v1/services/", params)
    assert response.status_code == 400
    error = problem(response, 400)
    assert error["code"] == "invalid"
    assert set(problem_fields(error)) == set(params)


# --- Query counts ---------------------------------------------------------------------------


def _grow(n: int, unit: Any) -> None:
    """n more of everything the list endpoints show: services, units, charters, agencies."""
    for i in range(n):
        service = make_service(unit.agency, unit, f"Layanan {i:02d}")
        make_published(service, is_free=False)
        make_draft(service)
        AgencyFactory()
    _charters_of(n, unit.agency)  # one new unit each


def _count_queries(api: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("/api/v1/services/", "anonymous"),
        ("/api/v1/services/", "editor_a"),  # public rows and the agency's private ones
        ("/api/v1/services/", "ombudsman"),
        ("/api/v1/charters/", "anonymous"),
        ("/api/v1/charters/", "editor_a"),
        ("/api/v1/agencies/", "anonymous"),
        ("/api/v1/units/", "anonymous"),
    ],
)
def test_list_endpoints_cost_a_constant_number_of_queries(
    role: str,
    url: str,
    cast: dict[str, Any],
    unit_a: Any,
    as_user: Any,
    django_assert_max_num_queries: Any,
) -> None:
    api = as_user(cast[role])
    _grow(3, unit_a)
    few = _count_queries(api, url)
    _grow(27, unit_a)
    assert len(api.get(url, {"page_size": 500}).json()["results"]) >= 30
    assert _count_queries(api, url) == few
    # A staff session costs its session, user, confirmed device and memberships.
    with django_assert_max_num_queries(11):
        api.get(url)


def test_versions_of_a_service_cost_a_constant_number_of_queries(
    api: APIClient, published_a: Any, django_assert_max_num_queries: Any
) -> None:
    service = published_a.service
    url = f"/api/v1/services/{service.pk}/versions/"
    few = _count_queries(api, url)
    current = published_a
    for i in range(10):
        current = republish(current, change_summary=f"Perubahan {i}")
    assert len(api.get(url).json()["results"]) == 11
    with django_assert_max_num_queries(few):
        api.get(url)


# --- Charters ----------------------------------------------------------------------------------


def _charters_of(n: int, agency: Any) -> None:
    for _ in range(n):
        unit: Any = UnitFactory(agency=agency)
        charter = charter_draft_create(
            unit=unit,
            services=list(agency.services.all()[:3]),
            signatory_name="Kepala",
            signatory_title="Kepala Unit",
            signed_on=dt.date(2025, 1, 2),
        )
        charter_publish(charter=charter)


@pytest.mark.parametrize(
    ("role", "sees_draft"),
    [("anonymous", False), ("editor_a", True), ("editor_b", False), ("ombudsman", True)],
)
def test_charters_public_ones_for_all_drafts_for_staff(
    role: str, sees_draft: bool, cast: dict[str, Any], unit_a: Any, published_a: Any, as_user: Any
) -> None:
    first = charter_draft_create(
        unit=unit_a,
        services=[published_a.service],
        signatory_name="Budi",
        signatory_title="Kepala Dinas",
        signed_on=dt.date(2025, 1, 2),
        compensation_per_day=20_000,
        compensation_cap=500_000,
    )
    charter_publish(charter=first)
    second = charter_draft_create(
        unit=unit_a,
        services=[published_a.service],
        signatory_name="Sari",
        signatory_title="Kepala Dinas",
        signed_on=dt.date(2025, 6, 1),
    )
    charter_publish(charter=second)
    draft = charter_draft_create(
        unit=unit_a,
        services=[],
        signatory_name="Tono",
        signatory_title="Kepala Dinas",
        signed_on=dt.date(2025, 9, 1),
    )
    api = as_user(cast[role])

    charters = api.get("/api/v1/charters/", {"ordering": "-id"}).json()["results"]
    statuses = [(c["number"], c["status"]) for c in charters]
    expected = [(2, "published"), (1, "superseded")]
    assert statuses == ([(3, "draft"), *expected] if sees_draft else expected)
    assert api.get(f"/api/v1/charters/{draft.pk}/").status_code == (200 if sees_draft else 404)

    old = api.get(f"/api/v1/charters/{first.pk}/").json()
    assert old["agency"]["slug"] == "dinas-a"
    assert old["unit"]["slug"] == "unit-a"
    assert old["compensation_per_day"] == 20_000
    assert old["compensation_cap"] == 500_000
    assert old["signed_on"] == "2025-01-02"
    assert old["services"] == [
        {
            "id": published_a.service_id,
            "slug": published_a.service.slug,
            "name": "KTP Elektronik",
            "agency": "dinas-a",
        }
    ]
    published = api.get("/api/v1/charters/", {"status": "published"}).json()["results"]
    assert [c["id"] for c in published] == [second.pk]
