"""Bulk open data: the downloads (CSV, XLSX), the /opendata/ page and the DCAT-AP catalogue."""

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
from openpyxl import load_workbook

from opendata.exports import DATASETS, SERVICE_COLUMNS, service_batches
from tests.opendata.conftest import parse_jsonld
from tests.opendata.world import survey
from tests.registry import make_draft, make_published, make_service

COST = {"cost_items": [{"name": "Retribusi", "amount": 50_000, "legal_basis": "Perda 1/2024"}]}


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _csv(client: Any, key: str) -> list[dict[str, str]]:
    response = client.get(f"/opendata/datasets/{key}.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="maklumat-{key}-')
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _world(unit: Any, n: int) -> None:
    for i in range(n):
        service = make_service(unit.agency, unit, f"Layanan {i:03d}")
        make_published(service, children=COST if i % 2 else None, is_free=not i % 2)


def test_services_csv_has_one_row_per_published_service_with_14_components(
    client: Client, published_a: Any, draft_a: Any
) -> None:
    rows = _csv(client, "services")
    assert [r["service_id"] for r in rows] == [str(published_a.service_id)]  # no draft
    row = rows[0]
    assert list(row) == list(SERVICE_COLUMNS)
    components = {name.split("_")[0] for name in row if name[:1] == "c" and name[1:3].isdigit()}
    assert components == {f"c{i:02d}" for i in range(1, 15)}
    assert row["c01_requirements"] == "KTP-el | Kartu Keluarga"
    assert row["c02_procedure"] == "Petugas: Memeriksa berkas"
    assert row["c06_complaint_channels"] == "phone: 022-000"
    assert row["c07_legal_basis"] == "UU 25/2009"
    assert row["c04_is_free"] == "true"
    assert row["c11_staff_count"] == "3"
    assert row["agency_slug"] == "dinas-a"


def test_text_that_looks_like_a_formula_is_defused(client: Client, unit_a: Any) -> None:
    service = make_service(unit_a.agency, unit_a, '=HYPERLINK("http://x")')
    make_published(service, product="+1 dokumen")
    row = _csv(client, "services")[0]
    assert row["service_name"] == '\'=HYPERLINK("http://x")'
    assert row["c05_product"] == "'+1 dokumen"
    sheet = load_workbook(io.BytesIO(_xlsx(client, "services"))).active
    assert sheet is not None
    cells = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert '\'=HYPERLINK("http://x")' in cells
    assert cells[SERVICE_COLUMNS.index("c05_product")] == "'+1 dokumen"


def _xlsx(client: Any, key: str) -> bytes:
    response = client.get(f"/opendata/datasets/{key}.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f'filename="maklumat-{key}-' in response["Content-Disposition"]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("key", list(DATASETS))
def test_every_dataset_downloads_as_csv_and_xlsx_with_its_columns(
    client: Client, published_a: Any, key: str
) -> None:
    survey(published_a.service.unit, None, [4] * 9, 2, "2026-Q1")
    rows = _csv(client, key)
    sheet = load_workbook(io.BytesIO(_xlsx(client, key)), read_only=True).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == DATASETS[key].columns
    assert len(table) - 1 == len(rows)


def test_requirements_and_costs_rows(client: Client, unit_a: Any) -> None:
    _world(unit_a, 2)
    requirements = _csv(client, "requirements")
    assert [r["requirement"] for r in requirements] == ["KTP-el", "Kartu Keluarga"] * 2
    costs = _csv(client, "costs")
    assert [(c["item"], c["amount_idr"], c["legal_basis"]) for c in costs] == [
        ("Retribusi", "50000", "Perda 1/2024")
    ]


def test_skm_rows_carry_the_exact_index_and_grade(client: Client, published_a: Any) -> None:
    unit = published_a.service.unit
    survey(unit, None, [4] * 9, 3, "2026-Q1")
    survey(unit, published_a.service, [3] * 9, 1, "2026-Q2")
    rows = _csv(client, "skm")
    assert [(r["period"], r["respondents"], r["converted_index"], r["grade"]) for r in rows] == [
        ("2026-Q1", "3", "100.00", "A"),
        ("2026-Q2", "1", "75.00", "C"),
    ]
    assert rows[0]["nrr_u1"] == "4.00"


def test_unknown_dataset_or_format_is_404(client: Client, db: Any) -> None:
    assert client.get("/opendata/datasets/secrets.csv").status_code == 404
    assert client.get("/opendata/datasets/services.pdf").status_code == 404


def test_service_batches_cost_the_same_queries_whatever_the_size(unit_a: Any) -> None:
    _world(unit_a, 3)
    with CaptureQueriesContext(connection) as small:
        batches = list(service_batches(batch_size=2))
    assert [len(b) for b in batches] == [2, 1]
    _world_more = 6
    for i in range(_world_more):
        make_published(make_service(unit_a.agency, unit_a, f"Lain {i}"))
    with CaptureQueriesContext(connection) as large:
        batches = list(service_batches(batch_size=2))
    assert sum(len(b) for b in batches) == 9
    # Five queries a batch (versions; requirements, steps, costs, channels): per batch, flat.
    assert len(small.captured_queries) == 5 * 2
    assert len(large.captured_queries) == 5 * 5


def test_single_query_exports_stay_at_one_query(unit_a: Any, published_a: Any) -> None:
    _world(unit_a, 4)
    for key in ("requirements", "costs", "performance", "skm"):
        with CaptureQueriesContext(connection) as ctx:
            list(DATASETS[key].rows())
        assert len(ctx.captured_queries) <= 1, key


# --- The page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/opendata/", ["Data terbuka", "Layanan dan standar pelayanannya yang berlaku"]),
        ("/en/opendata/", ["Open data", "Services and their current standards"]),
    ],
)
def test_the_page_lists_every_dataset_with_licence_formats_and_updates(
    client: Client, published_a: Any, path: str, words: list[str]
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html
    for key in DATASETS:
        assert f"/opendata/datasets/{key}.csv" in html
        assert f"/opendata/datasets/{key}.xlsx" in html
    assert html.count('href="https://creativecommons.org/licenses/by/4.0/"') >= len(DATASETS)
    assert "/opendata/catalog.jsonld" in html


def test_the_page_costs_the_same_queries_whatever_the_size(
    client: Client, unit_a: Any, published_a: Any
) -> None:
    with CaptureQueriesContext(connection) as few:
        client.get("/opendata/")
    cache.clear()
    _world(unit_a, 6)
    with CaptureQueriesContext(connection) as many:
        client.get("/opendata/")
    # The facts of each dataset (last update, and a row count where cheap), then cached.
    assert len(many.captured_queries) == len(few.captured_queries) <= 15
    with CaptureQueriesContext(connection) as cached:
        client.get("/opendata/")
    assert len(cached.captured_queries) <= 2


# --- DCAT-AP ---------------------------------------------------------------------------


def test_the_dcat_catalogue_describes_every_dataset_and_distribution(
    client: Client, published_a: Any
) -> None:
    from rdflib import Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, RDF

    response = client.get("/opendata/catalog.jsonld")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    assert document["@type"] == "dcat:Catalog"
    graph = parse_jsonld(response.content.decode())
    catalogues = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogues) == 1
    datasets = set(graph.objects(catalogues[0], DCAT.dataset))
    assert len(datasets) == len(DATASETS)
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    iana = Namespace("https://www.iana.org/assignments/media-types/")
    for dataset in datasets:
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert {t.language for t in graph.objects(dataset, DCTERMS.title)} == {"id", "en"}
        assert graph.value(dataset, DCTERMS.description) is not None
        assert graph.value(dataset, DCTERMS.accrualPeriodicity) is not None
        distributions = set(graph.objects(dataset, DCAT.distribution))
        assert len(distributions) == 2
        media = set()
        for distribution in distributions:
            assert (distribution, RDF.type, DCAT.Distribution) in graph
            url = graph.value(distribution, DCAT.downloadURL)
            assert str(url).startswith("http://testserver/opendata/datasets/")
            assert graph.value(distribution, DCTERMS.license) == licence
            assert graph.value(distribution, DCAT.accessURL) == url
            media.add(graph.value(distribution, DCAT.mediaType))
            # The download URL answers.
            path = str(url).removeprefix("http://testserver")
            assert client.get(path).status_code == 200
        assert media == {
            iana["text/csv"],
            iana["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        }
    services = URIRef("http://testserver/opendata/#services")
    assert graph.value(services, DCTERMS.modified) is not None


def test_drafts_never_reach_the_bulk_data(client: Client, unit_a: Any) -> None:
    make_draft(make_service(unit_a.agency, unit_a, "Rahasia"))
    assert _csv(client, "services") == []
    assert _csv(client, "requirements") == []
