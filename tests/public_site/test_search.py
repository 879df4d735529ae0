"""Search: ranking against the demo data, filters, pagination and a constant query count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from services.models import Service
from services.search import SearchFilters, _match_plain, service_search
from services.services import standard_new_version, standard_publish
from tests import factories
from tests.registry import publish_service

KTP_EL = "Penerbitan KTP Elektronik (KTP-el)"


def names(**filters) -> list[str]:
    return [s.name for s in service_search(filters=SearchFilters(**filters))]


@pytest.mark.parametrize(
    "query",
    ["ktp", "KTP", "KTP elektronik", "e-ktp", "E-KTP", "ktp elektonik", "KTP-el", "ktp el"],
)
def test_the_ktp_el_service_comes_first(demo, query):
    found = names(query=query)
    assert found[0] == KTP_EL


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("akta kelahiran", "Penerbitan Akta Kelahiran"),
        ("akte lahir", "Penerbitan Akta Kelahiran"),
        ("imb", "Persetujuan Bangunan Gedung (PBG)"),
        ("kartu keluarga baru", "Penerbitan Kartu Keluarga (KK) Baru"),
        ("izin apotek", "Izin Apotek"),
        ("legalisir", "Legalisasi Dokumen Kependudukan"),
    ],
)
def test_ranks_by_relevance(demo, query, first):
    assert names(query=query)[0] == first


def test_indonesian_stemming_matches_other_word_forms(demo):
    # "daftar" is the stem of "Pendaftaran".
    assert any(name.startswith("Pendaftaran Tanah") for name in names(query="daftar tanah"))


def test_requirements_and_agency_names_are_searched(demo):
    # Only in a requirement of the birth certificate service.
    assert names(query="SPTJM") == ["Penerbitan Akta Kelahiran"]
    sleman = Service.objects.filter(agency__slug="dpmptsp-kabupaten-sleman").count()
    assert len(names(query="Sleman")) == sleman


def test_name_matches_rank_above_requirement_matches(demo):
    found = names(query="ktp")
    # Many services only ask for a KTP-el as a requirement: both KTP services come first.
    assert set(found[:2]) == {KTP_EL, "Penggantian KTP-el Hilang atau Rusak"}
    assert len(found) > 2


def test_nothing_matches_nonsense(demo):
    assert names(query="zzqxv") == []


def test_a_new_publication_refreshes_the_vector(agency_a, unit_a, approver_a):
    _service, version = publish_service(
        agency_a, unit_a, "Izin Keramaian", requirements=["Surat pengantar kelurahan"]
    )
    assert names(query="keramaian") == ["Izin Keramaian"]
    assert names(query="pengantar kelurahan") == ["Izin Keramaian"]
    assert names(query="rekomendasi polsek") == []

    draft = standard_new_version(version=version, acting_user=approver_a)
    draft.requirements.create(name="Rekomendasi Polsek", position=9)
    # A draft is not the promise: its content is not searchable yet.
    assert names(query="rekomendasi polsek") == []
    standard_publish(version=draft, acting_user=approver_a)
    assert names(query="rekomendasi polsek") == ["Izin Keramaian"]


def test_renaming_a_service_refreshes_the_vector(agency_a, unit_a):
    service, _ = publish_service(agency_a, unit_a, "Izin Keramaian")
    service.name = "Izin Pertunjukan"
    service.save()
    assert names(query="pertunjukan") == ["Izin Pertunjukan"]


def test_services_without_a_published_standard_are_not_found(agency_a, unit_a):
    from services.services import service_create

    service_create(agency=agency_a, unit=unit_a, name="Izin Keramaian")
    assert names(query="keramaian") == []
    assert names() == []


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def mixed(agency_a, unit_a, agency_b, unit_b):
    agency_b.name = "Dinas Jatim"
    agency_b.region_name = "Jawa Timur"
    agency_b.level = "regency"
    agency_b.save()
    publish_service(
        agency_a,
        unit_a,
        "Layanan Gratis Cepat",
        category="population",
        channels=["online"],
        processing_time_value=2,
    )
    publish_service(
        agency_a,
        unit_a,
        "Layanan Berbayar",
        category="licensing",
        channels=["counter"],
        is_free=False,
        processing_time_value=10,
    )
    publish_service(
        agency_b,
        unit_b,
        "Layanan Kalender",
        category="licensing",
        channels=["counter", "mobile"],
        processing_time_value=4,
        processing_time_unit="calendar_days",
    )
    publish_service(
        agency_b,
        unit_b,
        "Layanan Menit",
        category="health",
        channels=["counter"],
        processing_time_value=90,
        processing_time_unit="minutes",
    )


def test_filter_by_agency_and_region(mixed):
    assert names(agency="dinas-a") == ["Layanan Berbayar", "Layanan Gratis Cepat"]
    assert names(region="Jawa Timur") == ["Layanan Kalender", "Layanan Menit"]


def test_filter_by_category_and_channel(mixed):
    assert names(category="licensing") == ["Layanan Berbayar", "Layanan Kalender"]
    assert names(channel="mobile") == ["Layanan Kalender"]
    assert names(channel="online") == ["Layanan Gratis Cepat"]


def test_filter_free_only(mixed):
    assert "Layanan Berbayar" not in names(free_only=True)
    assert len(names(free_only=True)) == 3


def test_filter_by_maximum_processing_time(mixed):
    # Hours and minutes are within any maximum given in days.
    assert names(max_days=3) == ["Layanan Gratis Cepat", "Layanan Menit"]
    assert names(max_days=4) == ["Layanan Gratis Cepat", "Layanan Kalender", "Layanan Menit"]
    assert len(names(max_days=10)) == 4


def test_filters_combine_with_the_query(mixed):
    assert names(query="layanan", agency="dinas-b", max_days=30) == [
        "Layanan Kalender",
        "Layanan Menit",
    ] or names(query="layanan", agency="dinas-b", max_days=30) == [
        "Layanan Menit",
        "Layanan Kalender",
    ]
    assert names(query="berbayar", free_only=True) == []


def test_the_search_page_filters_through_its_form(client, mixed):
    response = client.get(reverse("public:search"), {"region": "Jawa Timur", "free": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Layanan Kalender" in html and "Layanan Menit" in html
    assert "Layanan Gratis Cepat" not in html


def test_plain_fallback_matches_every_word_in_name_keywords_or_agency(mixed):
    found = [s.name for s in _match_plain(Service.objects.all(), "layanan berbayar")]
    assert found == ["Layanan Berbayar"]
    found = [s.name for s in _match_plain(Service.objects.all(), "layanan jatim")]
    assert found == ["Layanan Kalender", "Layanan Menit"]


# --- The page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 500},
        {"max_days": "abc", "page": "zz", "agency": "nope", "channel": "fax"},
        {"q": "'\"&|!:*()<>", "page": "-1"},
        {"q": "ktp", "page": "999"},
        {"free": "maybe", "category": "\x00"},
    ],
)
def test_bad_input_never_breaks_the_page(client, demo, params):
    response = client.get(reverse("public:search"), params)
    assert response.status_code == 200


def test_results_show_time_cost_and_agency(client, demo):
    html = client.get(reverse("public:search"), {"q": "izin reklame"}).content.decode()
    assert "Izin Penyelenggaraan Reklame" in html
    assert "Rp 150.000" in html
    assert "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Sleman" in html
    assert "5 hari kerja" in html
    html = client.get(reverse("public:search"), {"q": "ktp"}).content.decode()
    assert "Gratis" in html


def test_home_search_form_submits_to_the_search_page(client, demo):
    html = client.get(reverse("public:home")).content.decode()
    assert f'action="{reverse("public:search")}"' in html


def test_pagination_twenty_per_page(client, agency_a, unit_a):
    for n in range(45):
        publish_service(agency_a, unit_a, f"Izin Nomor {n:02d}")
    page1 = client.get(reverse("public:search"), {"q": "izin"})
    assert len(page1.context["services"]) == 20
    assert page1.context["page"].paginator.count == 45
    assert 'rel="next"' in page1.content.decode()
    page3 = client.get(reverse("public:search"), {"q": "izin", "page": 3})
    assert len(page3.context["services"]) == 5
    html = page3.content.decode()
    assert "q=izin&amp;page=2" in html
    assert 'start="41"' in html
    seen = {
        s.pk
        for p in (1, 2, 3)
        for s in client.get(reverse("public:search"), {"q": "izin", "page": p}).context["services"]
    }
    assert len(seen) == 45


def _many(agency, unit, n):
    for i in range(n):
        publish_service(agency, unit, f"Izin Usaha {i}", keywords="usaha", is_free=i % 2 == 0)


@pytest.mark.parametrize("count", [5, 40])
@pytest.mark.parametrize(
    "params", [{}, {"q": "izin usaha"}, {"q": "izin", "free": "on", "max_days": "9"}]
)
def test_constant_number_of_queries(
    client, django_assert_num_queries, agency_a, unit_a, count, params
):
    _many(agency_a, unit_a, count)
    factories.AgencyFactory()
    # agencies for the form; count; page of services; their current versions.
    with django_assert_num_queries(4):
        response = client.get(reverse("public:search"), params)
    assert response.context["page"].paginator.count >= min(count, 20) // 2
