"""Service, agency, unit, charter and league pages; sitemap, robots.txt, 404."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from agencies.models import Agency, Unit
from charter.models import Charter
from services.components import completeness
from services.deadline_example import example_due_date
from services.models import Service, StandardVersion
from services.search import standards_figures, version_scores
from services.services import standard_draft_create, standard_new_version, standard_publish
from tests import factories
from tests.registry import publish_service

KTP_URL = "/agencies/disdukcapil-kota-bandung/services/ktp-el/"


def _json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


# --- Service page ------------------------------------------------------------------------


def test_service_page_has_json_ld_government_service(client, demo):
    data = _json_ld(client.get(KTP_URL).content.decode())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "GovernmentService"
    assert data["name"] == "Penerbitan KTP Elektronik (KTP-el)"
    assert data["serviceType"]
    assert data["url"] == f"http://testserver{KTP_URL}"
    provider = data["provider"]
    assert provider["@type"] == "GovernmentOrganization"
    assert provider["name"] == "Dinas Kependudukan dan Pencatatan Sipil Kota Bandung"
    assert provider["address"]["streetAddress"].startswith("Jl. Ambon")
    assert data["areaServed"]["name"] == "Jawa Barat"
    assert data["offers"] == {"@type": "Offer", "price": 0, "priceCurrency": "IDR"}


def test_json_ld_carries_the_total_cost_and_cannot_break_out_of_its_script(
    client, agency_a, unit_a
):
    service, _ = publish_service(
        agency_a, unit_a, "Izin </script><script>alert(1)</script> & co", is_free=False
    )
    html = client.get(service.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    data = _json_ld(html)
    assert data["name"] == "Izin </script><script>alert(1)</script> & co"
    assert data["offers"]["price"] == 50000


def test_service_page_canonical_and_alternates_are_absolute(client, demo):
    html = client.get(KTP_URL).content.decode()
    assert f'<link rel="canonical" href="http://testserver{KTP_URL}">' in html
    assert f'hreflang="en" href="http://testserver/en{KTP_URL}"' in html
    html = client.get("/en" + KTP_URL + "?utm=x").content.decode()
    assert f'<link rel="canonical" href="http://testserver/en{KTP_URL}">' in html


def test_service_page_shows_what_a_citizen_needs(client, demo):
    html = client.get(KTP_URL).content.decode()
    for text in [
        "1 hari kerja",
        "Gratis",
        "Fotokopi Kartu Keluarga (KK)",
        'type="checkbox"',
        "Mengambil nomor antrean",
        "10 menit",
        "Laporkan masalah pada layanan ini",
        "Undang-Undang Nomor 24 Tahun 2013",
        "800/Kep.100-Disdukcapil/2025",
        'id="performance-heading"',
    ]:
        assert text in html, text
    # The charter's pledge, and a worked example of the deadline.
    assert "Dengan ini, kami menyatakan sanggup" in html
    assert re.search(
        r"\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4}",
        html,
    )


def test_older_versions_are_listed_and_readable(client, agency_a, unit_a, approver_a):
    service, v1 = publish_service(agency_a, unit_a, "Izin Keramaian", processing_time_value=7)
    v2 = standard_new_version(version=v1, acting_user=approver_a)
    v2.processing_time_value = 3
    v2.save()
    standard_publish(version=v2, acting_user=approver_a)
    html = client.get(service.get_absolute_url()).content.decode()
    old_url = reverse(
        "public:service_version",
        kwargs={"agency_slug": "dinas-a", "slug": service.slug, "number": 1},
    )
    assert old_url in html
    old = client.get(old_url)
    assert old.status_code == 200
    assert "7 hari kerja" in old.content.decode()
    assert '<meta name="robots" content="noindex">' in old.content.decode()
    # A draft is not public.
    standard_new_version(version=StandardVersion.objects.get(pk=v2.pk), acting_user=approver_a)
    url3 = reverse(
        "public:service_version",
        kwargs={"agency_slug": "dinas-a", "slug": service.slug, "number": 3},
    )
    assert client.get(url3).status_code == 404


def test_service_without_published_standard_is_404(client, agency_a, unit_a):
    from services.services import service_create

    service = service_create(agency=agency_a, unit=unit_a, name="Belum Terbit")
    standard_draft_create(service=service, data=factories.complete_version_data()[0])
    assert client.get(service.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("language", ["id", "en"])
def test_service_page_query_count_is_constant_and_the_body_is_cached(
    client, demo, national, django_assert_num_queries, language
):
    prefix = "" if language == "id" else "/en"
    # service; its versions; charter; the four parts of the standard (first view only);
    # the performance panel's aggregates and its 3/6/12-month periods; the due-date example
    # on the unit's work calendar (calendar, first working day, due day: 4) (all cached
    # afterwards); where it can be done (the unit's counters and their locations: 1); the life
    # events the service is part of (1); the ombudsman's final findings about it (cases: 1).
    # The second view reads the whole panel (months included) from its figures snapshot.
    with django_assert_num_queries(18):
        first = client.get(prefix + KTP_URL)
    with django_assert_num_queries(6):
        second = client.get(prefix + KTP_URL)
    assert first.context["body"] == second.context["body"]
    assert "Fotokopi Kartu Keluarga (KK)" in second.content.decode()


def test_service_page_with_many_rows_costs_the_same(
    client, agency_a, unit_a, national, django_assert_num_queries
):
    service, _ = publish_service(
        agency_a, unit_a, "Izin Besar", requirements=[f"Syarat {i}" for i in range(30)]
    )
    # As above: the page, the standard's parts, the panel (figures, periods, months), the
    # due-date example, where it can be done, the life events, the ombudsman's findings.
    with django_assert_num_queries(18):
        client.get(service.get_absolute_url())


# --- Deadline example --------------------------------------------------------------------


def test_the_example_counts_on_the_units_own_calendar(agency_a, unit_a, national):
    from django.core.cache import cache

    from agencies.calendars import calendar_day_set, calendar_rebuild
    from agencies.models import Calendar, Unit
    from services.deadline_example import unit_example

    cache.clear()
    regional = Calendar.objects.create(name="Kalender Bali", slug="bali", parent=national)
    calendar_rebuild(regional, span=(2025, 2027))
    calendar_day_set(calendar=regional, date=dt.date(2026, 3, 4), kind="closure", name="Adat")
    unit_a.calendar = regional
    unit_a.save()
    elsewhere = Unit.objects.create(agency=agency_a, name="Unit lain", slug="lain")
    monday = dt.date(2026, 3, 2)
    # Three working days from Monday: Thursday nationally, Friday where Wednesday is closed.
    assert unit_example(elsewhere, monday, 3, "working_days") == (monday, dt.date(2026, 3, 5))
    assert unit_example(unit_a, monday, 3, "working_days") == (monday, dt.date(2026, 3, 6))
    # Submitted on the closed day: the example starts on the next working day.
    wednesday = dt.date(2026, 3, 4)
    assert unit_example(unit_a, wednesday, 1, "working_days") == (
        dt.date(2026, 3, 5),
        dt.date(2026, 3, 6),
    )


def test_example_due_date_skips_weekends_and_national_holidays():
    monday = dt.date(2026, 3, 16)
    # 19 March is Nyepi; 21-22 March a weekend.
    assert example_due_date(monday, 5, "working_days") == dt.date(2026, 3, 24)
    assert example_due_date(monday, 1, "working_days") == dt.date(2026, 3, 17)
    assert example_due_date(monday, 5, "calendar_days") == dt.date(2026, 3, 21)
    assert example_due_date(monday, 90, "minutes") == monday
    assert example_due_date(dt.date(2026, 8, 14), 1, "working_days") == dt.date(2026, 8, 18)
    assert example_due_date(monday, None, "working_days") is None
    # An absurd promise (the importer allows one) gives no example instead of a 500.
    assert example_due_date(monday, 10**9, "calendar_days") is None
    assert example_due_date(monday, 10**9, "working_days") is None


def test_dates_and_rupiah_are_formatted_per_locale(client, demo):
    url = "/agencies/dpmptsp-kabupaten-sleman/services/izin-reklame/"
    html_id = client.get(url).content.decode()
    html_en = client.get("/en" + url).content.decode()
    assert "Rp 150.000" in html_id
    assert "Rp 150,000" in html_en
    version = StandardVersion.objects.get(service__slug="izin-reklame", status="published")
    with translation.override("id"):
        from django.utils.formats import date_format

        assert version.effective_date is not None
        assert date_format(version.effective_date, "j F Y") in html_id


# --- Agency, unit, charter pages ---------------------------------------------------------


def test_agency_page_shows_services_charters_contact_and_figures(client, demo):
    html = client.get("/agencies/disdukcapil-kota-bandung/").content.decode()
    assert "Penerbitan KTP Elektronik (KTP-el)" in html
    assert "Pelayanan Kantor Dinas Disdukcapil" in html
    assert "022-4209890" in html
    assert "openstreetmap.org" in html
    assert (
        Charter.objects.filter(unit__agency__slug="disdukcapil-kota-bandung")
        .earliest("pk")
        .get_absolute_url()
        in html
    )
    assert "100%" in html and "14" in html
    assert (
        '<link rel="canonical" href="http://testserver/agencies/disdukcapil-kota-bandung/">' in html
    )


def test_unit_page_shows_hours_map_charter_and_services(client, demo):
    html = client.get("/agencies/disdukcapil-kota-bandung/units/kantor-dinas/").content.decode()
    assert "08.00–16.00" in html
    assert "openstreetmap.org/?mlat=-6.908900" in html
    assert "Dengan ini, kami menyatakan sanggup" in html
    assert "Penerbitan Akta Kelahiran" in html
    assert "performance-heading" in html


def test_charter_page_links_the_poster_pdf(client, demo):
    charter = Charter.objects.filter(status="published").earliest("pk")
    html = client.get(charter.get_absolute_url()).content.decode()
    assert reverse("charters:charter_poster_pdf", kwargs={"pk": charter.pk}) in html
    assert 'rel="canonical"' in html


@pytest.mark.parametrize("n", [2, 8])
def test_agency_and_unit_pages_have_constant_query_counts(
    client, agency_a, unit_a, django_assert_num_queries, n
):
    for i in range(n):
        publish_service(agency_a, unit_a, f"Layanan {i}")
    factories.UnitFactory(agency=agency_a)
    # agency; the services' count and the first page of them; their versions; their cost
    # items; the units' count and first page; the charters' count (none: no rows to fetch);
    # figures; the agency's on-time figures; the ombudsman's findings, their record and the
    # corrective actions' record (cases).
    with django_assert_num_queries(13):
        client.get(agency_a.get_absolute_url())
    # unit; the services' count and the first page of them; versions; cost items; charter;
    # figures; the performance panel (3), whose cached figures also give the figures section
    # its on-time rate; the national calendar's days off (the unit's service days); where the
    # unit serves (counters and locations). Further pages: tests/public_site/test_pagination.py.
    with django_assert_num_queries(12):
        client.get(unit_a.get_absolute_url())


# --- Completeness figures and the league table ------------------------------------------------


def test_sql_scores_agree_with_the_components(agency_a, unit_a):
    cases: list[dict[str, Any]] = [
        {},
        {"product": "  "},
        {"legal_basis": []},
        {"legal_basis": ["  "]},
        {"legal_basis": ["", "UU 25/2009"]},
        {"facilities": [], "facilities_note": ""},
        {"facilities": [], "facilities_note": "Ruang tunggu"},
        {"staff_count": None, "staff_competence": "\n", "internal_supervision": ""},
        {"service_guarantee": "", "safety_security": "", "performance_evaluation": " "},
        {"is_free": False},
    ]
    for i, overrides in enumerate(cases):
        publish_service(agency_a, unit_a, f"Layanan {i}", **overrides)
    # Publishing needs a processing time: a version without one can only be a draft.
    from services.services import service_create

    bare = service_create(agency=agency_a, unit=unit_a, name="Kosong")
    standard_draft_create(service=bare, data={})
    versions = version_scores(StandardVersion.objects.all()).prefetch_related(
        "requirements", "steps", "cost_items", "complaint_channels"
    )
    scores = {v.pk: (getattr(v, "score"), completeness(v).score) for v in versions}  # noqa: B009
    assert all(sql == python for sql, python in scores.values()), scores
    assert len({sql for sql, _ in scores.values()}) > 3


def test_figures_count_complete_standards_and_mean_score(agency_a, unit_a, agency_b, unit_b):
    publish_service(agency_a, unit_a, "Lengkap")
    version = publish_service(agency_a, unit_a, "Kurang", product="", staff_count=None)[1]
    assert completeness(version).score == 12
    figures = standards_figures(by="agency")[agency_a.pk]
    assert (figures.published, figures.complete, figures.complete_percent, figures.mean_score) == (
        2,
        1,
        50,
        13.0,
    )
    assert agency_b.pk not in standards_figures(by="agency")
    assert standards_figures(by="unit", ids=[unit_a.pk])[unit_a.pk].published == 2


def test_league_ranks_agencies_by_completeness_with_sample_sizes(
    client, agency_a, unit_a, agency_b, unit_b
):
    publish_service(agency_a, unit_a, "A1", product="")
    publish_service(agency_b, unit_b, "B1")
    publish_service(agency_b, unit_b, "B2")
    empty = factories.AgencyFactory(name="Dinas Kosong", level="province", region_name="Papua")
    response = client.get(reverse("public:league"))
    rows = response.context["rows"]
    assert [a.name for a, _ in rows] == ["Dinas B", "Dinas A", "Dinas Kosong"]
    assert [f.published for _, f in rows] == [2, 1, 0]
    html = response.content.decode()
    assert "100%" in html and "13" in html
    filtered = client.get(reverse("public:league"), {"region": "Papua"}).context["rows"]
    assert [a for a, _ in filtered] == [empty]
    filtered = client.get(reverse("public:league"), {"level": "city"}).context["rows"]
    assert {a.name for a, _ in filtered} == {"Dinas A", "Dinas B"}
    assert client.get(reverse("public:league"), {"level": "<bad>"}).status_code == 200


@pytest.mark.parametrize("n", [2, 6])
def test_league_query_count_is_constant(client, db, django_assert_num_queries, n):
    for i in range(n):
        agency = factories.AgencyFactory()
        unit = factories.UnitFactory(agency=agency)
        publish_service(agency, unit, f"Layanan {i}")
    # agencies; figures; the on-time rates and the Ombudsman's published opinions (one
    # query each, then cached).
    with django_assert_num_queries(4):
        client.get(reverse("public:league"), {"level": "city"})
    with django_assert_num_queries(2):
        client.get(reverse("public:league"))


# --- Sitemap, robots.txt, 404 -------------------------------------------------------------


def test_sitemap_lists_public_pages_in_both_languages(client, demo):
    from services.services import service_create

    hidden = service_create(
        agency=Agency.objects.earliest("pk"), unit=Unit.objects.earliest("pk"), name="Belum Terbit"
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/sitemap.xml")
    assert response.status_code == 200
    xml = response.content.decode()
    locs = set(re.findall(r"<loc>(.*?)</loc>", xml))
    base = "http://testserver"
    assert f"{base}/" in locs and f"{base}/en/" in locs
    assert f"{base}/agencies/" in locs
    assert f"{base}{KTP_URL}" in locs and f"{base}/en{KTP_URL}" in locs
    assert f"{base}/agencies/disdukcapil-kota-bandung/" in locs
    assert f"{base}/agencies/disdukcapil-kota-bandung/units/kantor-dinas/" in locs
    for charter in Charter.objects.filter(status="published"):
        assert f"{base}{charter.get_absolute_url()}" in locs
    assert not any(hidden.slug in loc for loc in locs)
    published = Service.objects.filter(versions__status="published").count()
    assert sum(1 for loc in locs if "/services/" in loc) == 2 * published
    assert 'hreflang="en"' in xml
    # One query per section, whatever the number of rows: agencies, units, services,
    # charters, locations, life events, compliance scorecards and methods.
    assert len(queries) <= 8


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body
    assert "Disallow: /staff/" in body


@pytest.mark.parametrize(
    ("url", "heading", "lang"),
    [
        ("/tidak-ada/", "Halaman tidak ditemukan", "id"),
        ("/en/no-such-page/", "Page not found", "en"),
    ],
)
def test_404_page_in_both_languages(client, db, url, heading, lang):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert 'action="' + ("/en" if lang == "en" else "") + '/search/"' in html


def test_unknown_agency_and_service_are_404(client, db):
    assert client.get("/agencies/nope/").status_code == 404
    assert client.get("/en/agencies/nope/services/nope/").status_code == 404
    assert client.get("/charters/999999/").status_code == 404
