"""Search at scale: index-served candidate predicates, capped candidates, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.urls import reverse

from services import search
from services.models import Service
from services.search import SearchFilters, service_search
from tests.registry import publish_service

KTP_EL = "Penerbitan KTP Elektronik (KTP-el)"
SPELLINGS = [
    "ktp",
    "KTP",
    "KTP el",
    "ktp el",
    "KTP-el",
    "e-ktp",
    "E-KTP",
    "KTP elektronik",
    "ktp elektonik",
    "kartu tanda penduduk",
]


def names(query: str) -> list[str]:
    return [s.name for s in service_search(filters=SearchFilters(query=query))]


@pytest.mark.parametrize("count", [3, 30])
def test_search_page_queries_do_not_grow_with_the_services(
    client, django_assert_num_queries, agency_a, unit_a, count
):
    for n in range(count):
        publish_service(agency_a, unit_a, f"Izin Usaha {n}", requirements=["Fotokopi KTP-el"])
    # agencies for the form; count; page of services; their current versions.
    with django_assert_num_queries(4):
        response = client.get(reverse("public:search"), {"q": "ktp usaha"})
    assert response.context["page"].paginator.count == count


@pytest.mark.parametrize("query", SPELLINGS)
def test_ktp_el_first_when_the_candidate_sets_are_capped(demo, monkeypatch, query):
    # The demo has many services asking for a KTP-el: with a cap of 3 per candidate set,
    # the sets are cut, and the strongest matches must still be among the candidates.
    monkeypatch.setattr(search, "CANDIDATES_PER_SET", 3)
    found = names(query)
    assert found[0] == KTP_EL
    assert len(found) <= 3 * 3


def test_a_capped_search_says_so(client, demo, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES_PER_SET", 3)
    html = client.get(reverse("public:search"), {"q": "ktp"}).content.decode()
    assert KTP_EL in html
    assert client.get(reverse("public:search"), {"q": "ktp"}).context["capped"] is True
    assert client.get(reverse("public:search"), {"q": "sptjm"}).context["capped"] is False
    # Without words nothing is capped: every published service is listed.
    assert client.get(reverse("public:search")).context["capped"] is False


def _plan(sql: str, params: list | tuple) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("query", ["ktp", "legalisir", "akte lahir", "izin apotek"])
def test_candidates_are_found_through_indexes(demo, query):
    """With sequential scans priced out, no predicate on services needs to read the table.

    A predicate no index serves (such as `similarity(...) >= 0.5`) leaves PostgreSQL no
    other way than a sequential scan of every service.
    """
    qs = service_search(filters=SearchFilters(query=query))
    plan = _plan(*qs.query.sql_with_params())
    assert "Seq Scan on services_service" not in plan, plan
    assert "service_search_vector_gin" in plan or "services_service_pkey" in plan, plan


def test_close_titles_read_the_title_trigram_index_nearest_first(demo):
    # The body of services_close_titles (migration 0004): its expression is the index's, so
    # the titles are read through the GiST trigram index, never by scanning the table.
    plan = _plan(
        "SELECT id FROM services_service WHERE (name || ' ' || keywords) %%> %s "
        "ORDER BY (name || ' ' || keywords) <->> %s LIMIT 100",
        ["legalisir", "legalisir"],
    )
    # (Whether it also orders through the index or sorts the few matches depends on the
    # statistics of the moment; the order itself is the ORDER BY's, tested below.)
    assert "service_title_trgm_gist" in plan and "Seq Scan" not in plan, plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT services_close_titles(%s, 5)", ["legalisir"])
        ids = [row[0] for row in cursor.fetchall()]
    assert [s.name for s in Service.objects.filter(pk__in=ids)] == [
        "Legalisasi Dokumen Kependudukan"
    ]


def test_above_the_cap_the_closest_titles_are_the_candidates(agency_a, unit_a, monkeypatch):
    """A broad query with more matches than the cap keeps the services named most like it,
    wherever they lie in the table (they are created last here)."""
    from tests.registry import publish_service

    for i in range(8):
        publish_service(agency_a, unit_a, f"Izin Usahawan Muda Angkatan {i}")  # close, not best
    exact, _ = publish_service(agency_a, unit_a, "Izin Usaha Mikro")
    monkeypatch.setattr(search, "CANDIDATES_PER_SET", 2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT services_close_titles(%s, 2)", ["izin usaha"])
        ids = [row[0] for row in cursor.fetchall()]
    assert ids[0] == exact.pk
    found = list(service_search(filters=SearchFilters(query="izin usaha")))
    assert found[0].pk == exact.pk


def test_a_typo_alone_finds_the_service_through_its_title_trigrams(demo):
    # "legalisir" is no word of any vector: only the title trigram set finds it.
    assert names("legalisir")[0] == "Legalisasi Dokumen Kependudukan"
    assert names("izin apotik")[0] == "Izin Apotek"
