"""Issue 16: the open data is "published with its licence (CC BY 4.0 unless the agency chose
otherwise)". An agency's admin chooses the licence on the agency's profile; every bulk row
that belongs to one agency carries that agency's licence; the /opendata/ page and the DCAT-AP
catalogue say so."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.licences import DEFAULT_LICENCE, LICENCES, OpenDataLicence, licence
from agencies.locations import counter_attach
from agencies.models import Agency, Membership, Role
from agencies.services import agency_profile_update
from delivery.models import DeliveryStatus, ServiceDelivery
from opendata.exports import DATASETS
from tests import factories
from tests.accounts.conftest import login_verified
from tests.cases.conftest import advance
from tests.opendata.conftest import parse_jsonld
from tests.opendata.records_world import complaint, finding_case, make_mall
from tests.opendata.test_api_records import (
    birth,  # noqa: F401 - a fixture
    svc_a,  # noqa: F401 - a fixture
)
from tests.opendata.world import survey
from tests.registry import make_published, make_service

CC0 = "CC0-1.0"
CC_BY = "CC-BY-4.0"
COST = {"cost_items": [{"name": "Retribusi", "amount": 50_000, "legal_basis": "Perda 1/2024"}]}
REQUIREMENT = {"requirements": [{"name": "KTP", "is_mandatory": True}]}


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _csv(client: Any, key: str) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get(f"/opendata/datasets/{key}.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _choose(agency: Any, value: str) -> None:
    admin: Any = factories.UserFactory()
    Membership.objects.create(user=admin, agency=agency, role=Role.AGENCY_ADMIN)
    agency_profile_update(agency=agency, acting_user=admin, open_data_licence=value)


# --- The licences and the field -----------------------------------------------------------


def test_every_agency_is_cc_by_4_unless_it_chose_otherwise(agency_a: Any) -> None:
    assert agency_a.open_data_licence == CC_BY == DEFAULT_LICENCE.id
    assert Agency._meta.get_field("open_data_licence").default == CC_BY
    assert DEFAULT_LICENCE.url == "https://creativecommons.org/licenses/by/4.0/"
    # One home for the list: the model's choices are the licences, each with its address.
    assert set(LICENCES) == set(OpenDataLicence.values)
    assert set(OpenDataLicence.values) == {CC_BY, "CC-BY-SA-4.0", CC0, "ODbL-1.0"}
    assert all(item.url.startswith("https://") for item in LICENCES.values())
    assert licence(CC0).url == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert licence("nonsense") == DEFAULT_LICENCE


# --- Who may choose ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),  # to the login page
        ("admin_a", 302),  # saved
        ("admin_b", 404),
        ("editor_a", 403),
        ("ombudsman", 403),
    ],
)
def test_only_the_agencys_admin_may_choose_its_licence(
    who: str, expected: int, cast: dict[str, Any], agency_a: Any, agency_b: Any, client: Client
) -> None:
    users = dict(cast)
    users["admin_b"] = factories.UserFactory(username="admin_b")
    Membership.objects.create(user=users["admin_b"], agency=agency_b, role=Role.AGENCY_ADMIN)
    if users[who] is not None:
        login_verified(client, users[who])
    history_before = agency_a.history.count()
    url = reverse("agency_admin:profile", kwargs={"agency_slug": agency_a.slug})
    data = {"name": agency_a.name, "open_data_licence": CC0}
    response = client.post(url, data)
    assert response.status_code == expected
    agency_a.refresh_from_db()
    agency_b.refresh_from_db()
    assert agency_b.open_data_licence == CC_BY
    if who == "admin_a":
        assert response["Location"] == url
        assert agency_a.open_data_licence == CC0
        record = agency_a.history.latest()
        assert record.history_user == users["admin_a"]
        changes = {c.field: (c.old, c.new) for c in record.diff_against(record.prev_record).changes}
        assert changes["open_data_licence"] == (CC_BY, CC0)
        assert agency_a.history.count() == history_before + 1
    else:
        assert agency_a.open_data_licence == CC_BY
        assert agency_a.history.count() == history_before


def test_the_profile_form_offers_the_licences_and_refuses_another(
    agency_a: Any, admin_a: Any, client: Client
) -> None:
    login_verified(client, admin_a)
    url = reverse("agency_admin:profile", kwargs={"agency_slug": agency_a.slug})
    page = client.get(url).content.decode()
    assert 'name="open_data_licence"' in page
    assert "Lisensi data terbuka" in page
    for value in OpenDataLicence.values:
        assert f'value="{value}"' in page
    response = client.post(url, {"name": agency_a.name, "open_data_licence": "GPL-3.0"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"open_data_licence"}
    assert "pilihan" in errors["open_data_licence"][0]  # Django's Indonesian message
    agency_a.refresh_from_db()
    assert agency_a.open_data_licence == CC_BY


def test_the_service_layer_refuses_an_outsider(agency_a: Any, editor_a: Any) -> None:
    from core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        agency_profile_update(agency=agency_a, acting_user=editor_a, open_data_licence=CC0)
    agency_a.refresh_from_db()
    assert agency_a.open_data_licence == CC_BY


# --- The rows -------------------------------------------------------------------------------


def test_an_agency_choosing_cc0_licenses_its_rows_and_no_one_elses(
    client: Client, unit_a: Any, unit_b: Any, national: Any
) -> None:
    version_a = make_published(
        make_service(unit_a.agency, unit_a, "Layanan A"),
        children={**COST, **REQUIREMENT},
        is_free=False,
    )
    version_b = make_published(
        make_service(unit_b.agency, unit_b, "Layanan B"),
        children={**COST, **REQUIREMENT},
        is_free=False,
    )
    for version in (version_a, version_b):
        survey(version.service.unit, None, [4] * 9, 2, "2026-Q1")
        complaint(version.service)
        delivery: Any = factories.ServiceDeliveryFactory(
            service=version.service, submitted_at=timezone.now()
        )
        ServiceDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.COMPLETED, completed_at=timezone.now()
        )
        counter_attach(
            unit=version.service.unit,
            location=make_mall(version.service.agency, f"Mal {version.service.agency.slug}"),
        )
    _choose(unit_a.agency, CC0)

    for key in (
        "services",
        "requirements",
        "costs",
        "performance",
        "skm",
        "complaints",
        "locations",
    ):
        header, rows = _csv(client, key)
        assert header[-1] == "licence", key
        slug_column = "host_agency_slug" if key == "locations" else "agency_slug"
        by_agency = {row[slug_column]: row["licence"] for row in rows}
        assert by_agency == {"dinas-a": CC0, "dinas-b": CC_BY}, key


def test_life_event_and_finding_rows_carry_their_agencys_licence(
    client: Client,
    birth: Any,  # noqa: F811
    svc_a: Any,  # noqa: F811
    national: Any,
    cast: dict[str, Any],
    agency_a: Any,
    unit_a: Any,
) -> None:
    _choose(agency_a, CC0)
    _header, rows = _csv(client, "life-events")
    assert [(r["agency_slug"], r["licence"]) for r in rows] == [
        ("dinas-a", CC0),
        ("dinas-b", CC_BY),
        ("dinas-b", CC_BY),
    ]
    advance(
        finding_case(agency_a, unit_a, svc_a, cast["ombudsman"]), cast["ombudsman"], None, "final"
    )
    _header, rows = _csv(client, "findings")
    assert rows and {(r["agency_slug"], r["licence"]) for r in rows} == {("dinas-a", CC0)}


def test_every_dataset_but_the_ombudsmans_assessments_has_the_licence_column() -> None:
    for key, dataset in DATASETS.items():
        assert ("licence" in dataset.columns) == (key != "assessments"), key


@pytest.mark.parametrize("key", ["requirements", "costs", "performance", "skm", "complaints"])
def test_the_licence_costs_no_query_whatever_the_agencies(
    key: str, unit_a: Any, unit_b: Any, national: Any
) -> None:
    def world(unit: Any, n: int) -> None:
        for i in range(n):
            version = make_published(
                make_service(unit.agency, unit, f"Layanan {unit.pk}-{i}"),
                children={**COST, **REQUIREMENT},
                is_free=False,
            )
            survey(unit, version.service, [3] * 9, 1, "2026-Q1")
            complaint(version.service)

    world(unit_a, 1)
    with CaptureQueriesContext(connection) as small:
        small_rows = list(DATASETS[key].rows())
    world(unit_b, 4)
    _choose(unit_a.agency, CC0)
    _choose(unit_b.agency, "ODbL-1.0")
    with CaptureQueriesContext(connection) as large:
        large_rows = list(DATASETS[key].rows())
    assert len(large_rows) >= len(small_rows)
    assert len(large.captured_queries) == len(small.captured_queries) <= 1


# --- The page and the catalogue -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/opendata/", ["Instansi yang memilih lisensi lain", "kecuali instansinya memilih"]),
        ("/en/opendata/", ["Agencies that chose another licence", "unless the agency chose"]),
    ],
)
def test_the_page_lists_the_agencies_that_chose_otherwise(
    client: Client, agency_a: Any, agency_b: Any, path: str, words: list[str]
) -> None:
    html = client.get(path).content.decode()
    for word in words:
        assert word in html
    assert 'class="own-licences"' not in html
    _choose(agency_a, CC0)
    html = client.get(path).content.decode()
    listed = html.split('class="own-licences"', 1)[1].split("</ul>", 1)[0]
    assert f'href="{agency_a.get_absolute_url()}"' in listed
    assert 'href="https://creativecommons.org/publicdomain/zero/1.0/"' in listed
    assert "CC0 1.0" in listed
    assert agency_b.name not in listed


def test_the_page_costs_one_query_for_the_licences_whatever_the_agencies(
    client: Client, agency_a: Any
) -> None:
    _choose(agency_a, CC0)
    client.get("/opendata/")  # the dataset facts, then cached
    with CaptureQueriesContext(connection) as few:
        assert client.get("/opendata/").status_code == 200
    for i in range(5):
        _choose(factories.AgencyFactory(name=f"Dinas {i}", slug=f"dinas-{i}"), "CC-BY-SA-4.0")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/opendata/").content.decode()
    assert html.count("CC BY-SA 4.0</a>") == 5
    assert len(many.captured_queries) == len(few.captured_queries) <= 2


def test_the_catalogue_keeps_the_default_licence_and_names_the_licence_column(
    client: Client, agency_a: Any
) -> None:
    from rdflib import Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS

    _choose(agency_a, CC0)
    response = client.get("/opendata/catalog.jsonld")
    assert response.status_code == 200
    json.loads(response.content)
    graph = parse_jsonld(response.content.decode())
    page = Namespace("http://testserver/opendata/#")
    for key, dataset in DATASETS.items():
        distributions = list(graph.objects(page[key], DCAT.distribution))
        assert len(distributions) == 2
        for distribution in distributions:
            assert graph.value(distribution, DCTERMS.license) == URIRef(DEFAULT_LICENCE.url)
            rights = graph.value(distribution, DCTERMS.rights)
            if "licence" not in dataset.columns:
                assert rights is None
                continue
            assert (rights, RDF.type, DCTERMS.RightsStatement) in graph
            labels = {label.language: str(label) for label in graph.objects(rights, RDFS.label)}
            assert set(labels) == {"id", "en"}
            assert 'column "licence"' in labels["en"]
            assert 'kolom "licence"' in labels["id"]
