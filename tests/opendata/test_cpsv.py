"""CPSV-AP 3.2.0 JSON-LD: conformance to the official SHACL shapes, content, query counts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from opendata import cpsv
from opendata.selectors import cpsv_catalogue_batches
from services.models import StandardVersion
from tests.factories import AgencyFactory, UnitFactory
from tests.opendata.conftest import parse_jsonld
from tests.registry import make_published, make_service

CV = Namespace("http://data.europa.eu/m8g/")
CPSV = Namespace("http://purl.org/vocab/cpsv#")

pytestmark = pytest.mark.django_db


def _catalogue(client: Any) -> str:
    response = client.get("/opendata/cpsv-ap.jsonld")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("application/ld+json")
    return b"".join(response.streaming_content).decode()


def _odd_catalogue() -> list[StandardVersion]:
    """Services at the edges of what the registry allows."""
    agency = AgencyFactory(region_code="", region_name="", website="https://dinas.example.id")
    unit = UnitFactory(agency=agency, phone="", contact_emails=[])
    free = make_service(agency, unit, "Gratis tanpa syarat", channels=[], keywords="")
    hours = make_service(
        agency, unit, "Janji jam", channels=["counter", "online", "mobile"], keywords="a, b,,"
    )
    paid = make_service(agency, unit, "Berbayar", channels=["online"], summary="")
    return [
        make_published(
            free,
            {"requirements": []},
            is_free=True,
            product="",
            legal_basis=[],
            processing_time_value=14,
            processing_time_unit="calendar_days",
        ),
        make_published(hours, processing_time_value=3, processing_time_unit="hours"),
        make_published(
            paid,
            {
                "cost_items": [
                    {"name": "Retribusi", "amount": 150000},
                    {"name": "Materai", "amount": 10000},
                ],
                "requirements": [{"name": "KTP-el", "copies": "1 lembar"}] * 12,
            },
            is_free=False,
            processing_time_value=30,
            processing_time_unit="minutes",
        ),
    ]


def test_factory_catalogue_conforms_to_the_cpsv_ap_shapes(
    client: Any, unit_a: Any, shacl_report: Any
) -> None:
    for n in range(3):
        make_published(make_service(unit_a.agency, unit_a, f"Layanan {n}", channels=["counter"]))
    conforms, report = shacl_report(_catalogue(client))
    assert conforms, report


def test_odd_catalogue_conforms_to_the_cpsv_ap_shapes(client: Any, shacl_report: Any) -> None:
    _odd_catalogue()
    text = _catalogue(client)
    conforms, report = shacl_report(text)
    assert conforms, report
    graph = parse_jsonld(text)
    assert len(list(graph.subjects(RDF.type, CPSV.PublicService))) == 3


def test_the_shapes_catch_a_service_without_its_mandatory_fields(
    unit_a: Any, shacl_report: Any
) -> None:
    """The validation can fail: a public service without identifier or competent
    authority is reported (so `conforms` above means something)."""
    version = make_published(make_service(unit_a.agency, unit_a))
    document = cpsv.service_document(base="https://x.id", service=version.service, version=version)
    del document["@graph"][0]["dct:identifier"]
    del document["@graph"][0]["cv:hasCompetentAuthority"]
    conforms, report = shacl_report(json.dumps(document))
    assert not conforms
    assert "identifier" in report and "hasCompetentAuthority" in report


def test_service_document_maps_the_standard(client: Any, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a, "Izin Usaha", channels=["counter", "online"])
    make_published(
        service,
        {"cost_items": [{"name": "Retribusi", "amount": 150000}]},
        is_free=False,
        processing_time_value=5,
        processing_time_unit="working_days",
        product="Surat izin",
        legal_basis=["Perda 1/2020"],
    )
    response = client.get(f"/opendata/cpsv-ap/services/{service.pk}.jsonld")
    assert response.status_code == 200
    graph = parse_jsonld(response.content.decode())
    node = URIRef(f"http://testserver/opendata/cpsv-ap/services/{service.pk}")
    assert graph.value(node, DCTERMS.identifier) == Literal(str(service.pk))
    assert graph.value(node, DCTERMS.title) == Literal("Izin Usaha", lang="id")
    assert graph.value(node, CV.processingTime) == Literal("P5D", datatype=XSD.duration)
    assert len(list(graph.objects(node, CV.hasChannel))) == 2
    assert len(list(graph.objects(node, CV.holdsRequirement))) == 2
    assert len(list(graph.objects(node, CPSV.hasInput))) == 2
    cost = graph.value(node, CV.hasCost)
    assert graph.value(cost, CV.hasValue) == Literal(150000.0, datatype=XSD.double)
    assert graph.value(cost, CV.currency) == URIRef(cpsv.CURRENCY_IDR)
    authority = graph.value(node, CV.hasCompetentAuthority)
    assert graph.value(cost, CV.isDefinedBy) == authority
    assert (authority, RDF.type, CV.PublicOrganisation) in graph
    output = graph.value(node, CPSV.produces)
    assert graph.value(output, DCTERMS.title) == Literal("Surat izin", lang="id")
    assert graph.value(node, CV.hasLegalResource) is not None
    assert graph.value(node, CV.contactPoint) is not None


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (5, "working_days", "P5D"),
        (14, "calendar_days", "P14D"),
        (3, "hours", "PT3H"),
        (30, "minutes", "PT30M"),
        (None, "", None),
    ],
)
def test_processing_time_as_xsd_duration(value: Any, unit: str, expected: str | None) -> None:
    version = StandardVersion(processing_time_value=value, processing_time_unit=unit)
    assert cpsv.processing_time(version) == expected


def test_free_service_has_a_zero_cost(client: Any, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a)
    make_published(service, is_free=True)
    document = client.get(f"/opendata/cpsv-ap/services/{service.pk}.jsonld").json()
    costs = [node for node in document["@graph"] if node.get("@type") == "cv:Cost"]
    assert [c["cv:hasValue"]["@value"] for c in costs] == [0.0]


def test_service_without_published_version_is_404(client: Any, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a)
    assert client.get(f"/opendata/cpsv-ap/services/{service.pk}.jsonld").status_code == 404
    assert client.get("/opendata/cpsv-ap/services/999999.jsonld").status_code == 404


def test_service_page_links_its_cpsv_document(client: Any, published_a: Any) -> None:
    service = published_a.service
    html = client.get(service.get_absolute_url()).content.decode()
    href = reverse("opendata:cpsv_service", kwargs={"pk": service.pk})
    assert f'<link rel="alternate" type="application/ld+json" href="{href}">' in html


def test_service_document_query_count_is_fixed(
    client: Any, unit_a: Any, django_assert_num_queries: Any
) -> None:
    service = make_service(unit_a.agency, unit_a, channels=["counter", "online"])
    make_published(
        service,
        {"requirements": [{"name": f"Syarat {n}"} for n in range(20)]},
    )
    # Service with agency and unit, its published version, then one query per kind of
    # child (requirements, steps, costs, complaint channels), and its life-event steps.
    with django_assert_num_queries(7):
        assert client.get(f"/opendata/cpsv-ap/services/{service.pk}.jsonld").status_code == 200


def test_catalogue_batches_cost_a_fixed_number_of_queries(
    unit_a: Any, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        make_published(make_service(unit_a.agency, unit_a, f"Layanan {n}"))
    # Two full batches and a third of one: seven queries a batch (the sixth: life-event
    # steps), and the last (short) batch ends the walk without a further query.
    with django_assert_num_queries(21):
        batches = list(cpsv_catalogue_batches(batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]


def test_demo_catalogue_conforms_to_the_cpsv_ap_shapes(client: Any, shacl_report: Any) -> None:
    from demo.management.commands.seed_demo import seed_registry

    seed_registry()
    text = _catalogue(client)
    conforms, report = shacl_report(text)
    assert conforms, report
    assert len(list(parse_jsonld(text).subjects(RDF.type, CPSV.PublicService))) > 10


def test_a_service_grouped_by_life_events_conforms_and_names_them(
    client: Any, unit_a: Any, shacl_report: Any
) -> None:
    from lifeevents.services import life_event_create, life_event_publish, life_event_step_add

    first = make_service(unit_a.agency, unit_a, "Penerbitan NIB")
    make_published(first)
    second = make_service(unit_a.agency, unit_a, "Izin Usaha Mikro")
    make_published(second)
    business = life_event_create(
        kind="business", title="Memulai usaha", slug="memulai-usaha", description="Izin dasar."
    )
    step = life_event_step_add(event=business, service=first)
    life_event_step_add(event=business, service=second, depends_on=[step])
    life_event_publish(event=business)
    birth = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    life_event_step_add(event=birth, service=first)
    life_event_publish(event=birth)
    draft = life_event_create(kind="life", title="Draf", slug="draf")
    life_event_step_add(event=draft, service=second)  # not published: not in the data

    text = _catalogue(client)
    conforms, report = shacl_report(text)
    assert conforms, report
    graph = parse_jsonld(text)
    base = "http://testserver/opendata/cpsv-ap"
    node = URIRef(f"{base}/services/{first.pk}")
    event = URIRef(f"{base}/events/memulai-usaha")
    assert set(graph.objects(node, CV.isGroupedBy)) == {event, URIRef(f"{base}/events/kelahiran")}
    assert (event, RDF.type, CV.BusinessEvent) in graph
    assert (URIRef(f"{base}/events/kelahiran"), RDF.type, CV.LifeEvent) in graph
    assert graph.value(event, DCTERMS.identifier) == Literal("memulai-usaha")
    assert graph.value(event, DCTERMS.title) == Literal("Memulai usaha", lang="id")
    assert set(graph.objects(event, CV.hasRelatedService)) == {
        node,
        URIRef(f"{base}/services/{second.pk}"),
    }
    other = URIRef(f"{base}/services/{second.pk}")
    assert list(graph.objects(other, CV.isGroupedBy)) == [event]
