"""Poster pages and PDF downloads over HTTP: who sees what, sizes, languages, caching."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from charter import posters
from tests.charter import pdftext
from tests.charter.conftest import publish_standard
from tests.charter.qrread import segno_matrix, svg_matrix
from tests.charter.test_posters import A3, A4, assert_page_size
from tests.registry import make_service

pytestmark = pytest.mark.django_db

SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def charter_urls(pk: int) -> tuple[str, str]:
    return f"/charters/{pk}/poster/", f"/charters/{pk}/poster.pdf"


def standard_urls(service) -> tuple[str, str]:
    base = f"/charters/service/{service.agency.slug}/{service.slug}"
    return f"{base}/poster/", f"{base}/poster.pdf"


def qr_in(html: str) -> list[list[int]]:
    svgs = SVG.findall(html)
    assert len(svgs) == 1, "expected exactly one inline SVG (the QR code)"
    return svg_matrix(svgs[0])


def assert_public_cache(response) -> None:
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert f"max-age={posters.POSTER_MAX_AGE}" in cache_control
    assert "private" not in cache_control
    # Nothing per visitor in a publicly cached response.
    assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies
    assert b"csrfmiddlewaretoken" not in response.content


def test_url_names_resolve(published_charter, service_a) -> None:
    assert (
        reverse("charters:charter_poster", kwargs={"pk": published_charter.pk})
        == (charter_urls(published_charter.pk)[0])
    )
    assert (
        reverse(
            "charters:standard_poster_pdf",
            kwargs={"agency_slug": "dinas-a", "slug": service_a.slug},
        )
        == standard_urls(service_a)[1]
    )


# --- Charter poster ----------------------------------------------------------------
def test_charter_poster_page_in_indonesian(client, published_charter) -> None:
    html_url, pdf_url = charter_urls(published_charter.pk)
    response = client.get(html_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "MAKLUMAT PELAYANAN" in html
    assert "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar)." in html
    assert "Rp 20.000" in html and "Rp 500.000" in html
    assert "Dra. Siti Rahmawati" in html and "Kepala Unit Pelayanan" in html
    assert "2 Januari 2025" in html
    assert "Layanan yang dicakup" in html
    assert "Kartu Tanda Penduduk Elektronik" in html
    assert 'href="/static/css/print.css"' in html
    assert 'class="poster poster-a4"' in html
    assert f'href="{pdf_url}?size=a4"' in html
    assert "<script" not in html
    assert_public_cache(response)


def test_charter_poster_qr_encodes_the_absolute_public_url(client, published_charter) -> None:
    html = client.get(charter_urls(published_charter.pk)[0]).content.decode()
    expected = f"http://testserver/charters/{published_charter.pk}/"
    with translation.override("id"):
        assert expected == "http://testserver" + published_charter.get_absolute_url()
    assert qr_in(html) == segno_matrix(posters.qr_code(expected).matrix)
    assert re.search(rf"<svg [^>]*><title>[^<]*{re.escape(expected)}</title>", html)


def test_charter_poster_page_in_english(client, published_charter) -> None:
    response = client.get("/en" + charter_urls(published_charter.pk)[0])
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Citizen charter" in html
    assert "Services covered" in html
    assert "Download poster (PDF, A4)" in html
    assert "If a service is late, the unit pays Rp 20,000 for each day of delay" in html
    assert "2 January 2025" in html
    # The QR code leads English readers to the English page.
    expected = f"http://testserver/en/charters/{published_charter.pk}/"
    assert qr_in(html) == segno_matrix(posters.qr_code(expected).matrix)
    assert f'href="/en/charters/{published_charter.pk}/poster.pdf?size=a4"' in html


def test_charter_poster_page_a3(client, published_charter) -> None:
    html = client.get(charter_urls(published_charter.pk)[0], {"size": "a3"}).content.decode()
    assert 'class="poster poster-a3"' in html
    assert f'href="{charter_urls(published_charter.pk)[1]}?size=a3"' in html


@pytest.mark.parametrize(
    ("query", "expected", "suffix"), [({}, A4, "a4"), ({"size": "a3"}, A3, "a3")]
)
def test_charter_pdf_download(client, published_charter, query, expected, suffix) -> None:
    response = client.get(charter_urls(published_charter.pk)[1], query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="maklumat-pelayanan-unit-a-v1-{suffix}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    assert_page_size(response.content, expected)
    url = f"http://testserver/charters/{published_charter.pk}/"
    assert f"/URI ({url})".encode() in response.content
    text = pdftext.text(response.content)
    assert "MAKLUMAT PELAYANAN" in text and "Rp 20.000" in text and url in text
    assert_public_cache(response)


def test_charter_pdf_in_english(client, published_charter) -> None:
    response = client.get("/en" + charter_urls(published_charter.pk)[1])
    text = pdftext.text(response.content)
    assert "Services covered" in text and "Rp 20,000" in text
    assert f"http://testserver/en/charters/{published_charter.pk}/" in text


def test_unknown_size_falls_back_to_a4(client, published_charter) -> None:
    response = client.get(charter_urls(published_charter.pk)[1], {"size": "legal<script>"})
    assert response.status_code == 200
    assert_page_size(response.content, A4)


def test_superseded_charter_poster_still_available(client, superseded_charter) -> None:
    html_url, pdf_url = charter_urls(superseded_charter.pk)
    response = client.get("/en" + html_url)
    assert response.status_code == 200
    assert "This charter has been superseded by a newer one." in response.content.decode()
    assert client.get(pdf_url).status_code == 200


@pytest.mark.parametrize("which", ["html", "pdf"])
def test_draft_charter_poster_is_404(client, draft_charter, editor_a, which) -> None:
    html_url, pdf_url = charter_urls(draft_charter.pk)
    url = html_url if which == "html" else pdf_url
    assert client.get(url).status_code == 404
    # Not even for the agency's own staff: a draft is not a poster.
    client.force_login(editor_a)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("suffix", ["poster/", "poster.pdf"])
def test_unknown_charter_is_404(client, suffix) -> None:
    assert client.get(f"/charters/999999/{suffix}").status_code == 404


def test_posters_answer_only_safe_methods(client, published_charter) -> None:
    html_url, pdf_url = charter_urls(published_charter.pk)
    assert client.post(html_url).status_code == 405
    assert client.post(pdf_url).status_code == 405
    assert client.head(pdf_url).status_code == 200


# --- Service standard poster ---------------------------------------------------------
def test_standard_poster_page(client, service_a) -> None:
    html_url, pdf_url = standard_urls(service_a)
    response = client.get("/en" + html_url)
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "STANDAR PELAYANAN",
        "Service standard",
        "Kartu Tanda Penduduk Elektronik",
        "5 working days",
        "Free",
        "KTP-el",
        "Kartu Keluarga",
        "<strong>Petugas loket</strong>: Memeriksa berkas (15 minutes)",
        "<strong>Operator</strong>: Merekam data (2 hours)",
        "Phone: 022-000",
        "SP4N-LAPOR!: lapor.go.id",
        "800/12-Disdukcapil",
    ):
        assert expected in html, expected
    url = "http://testserver/en/agencies/dinas-a/services/" + service_a.slug + "/"
    with translation.override("en"):
        assert url == "http://testserver" + service_a.get_absolute_url()
    assert qr_in(html) == segno_matrix(posters.qr_code(url).matrix)
    assert f'href="/en{pdf_url}?size=a4"' in html
    assert_public_cache(response)


def test_standard_poster_in_indonesian(client, service_a) -> None:
    html = client.get(standard_urls(service_a)[0]).content.decode()
    assert "Persyaratan" in html and "Gratis" in html
    assert "Service standard" not in html


def test_standard_poster_shows_the_current_version_only(
    client, service_a, editor_a, approver_a
) -> None:
    publish_standard(
        service_a,
        editor_a,
        approver_a,
        data={"processing_time_value": 3},
        children={"requirements": [{"name": "Surat pengantar RT/RW"}]},
    )
    html = client.get("/en" + standard_urls(service_a)[0]).content.decode()
    assert "3 working days" in html and "Surat pengantar RT/RW" in html
    assert "5 working days" not in html and "Version 2" in html


@pytest.mark.parametrize(
    ("query", "expected", "suffix"), [({}, A4, "a4"), ({"size": "a3"}, A3, "a3")]
)
def test_standard_pdf_download(client, service_a, query, expected, suffix) -> None:
    response = client.get(standard_urls(service_a)[1], query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="standar-pelayanan-dinas-a-{service_a.slug}-v1-{suffix}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    assert_page_size(response.content, expected)
    url = f"http://testserver/agencies/dinas-a/services/{service_a.slug}/"
    assert f"/URI ({url})".encode() in response.content
    assert_public_cache(response)


@pytest.mark.parametrize("suffix", ["poster/", "poster.pdf"])
def test_service_without_published_standard_is_404(
    client, agency_a, unit_a, editor_a, suffix
) -> None:
    service = make_service(agency_a, unit_a, "Akta Kelahiran", acting_user=editor_a)
    assert client.get(f"/charters/service/dinas-a/{service.slug}/{suffix}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/charters/service/dinas-a/no-such-service/poster/",
        "/charters/service/no-such-agency/kartu-tanda-penduduk-elektronik/poster.pdf",
    ],
)
def test_unknown_service_is_404(client, service_a, path) -> None:
    assert client.get(path).status_code == 404


def test_withdrawn_standard_has_no_poster(client, service_a, approver_a) -> None:
    from services.services import standard_withdraw

    standard_withdraw(version=service_a.versions.get(), reason="Dicabut", acting_user=approver_a)
    assert client.get(standard_urls(service_a)[0]).status_code == 404
    assert client.get(standard_urls(service_a)[1]).status_code == 404


def test_charter_poster_page_shows_the_decree_and_sanction(
    client, unit_a, service_a, editor_a, approver_a
) -> None:
    from charter.services import charter_publish
    from tests.factories import CharterFactory

    charter = charter_publish(
        charter=CharterFactory.create(
            unit=unit_a,
            services=[service_a],
            acting_user=editor_a,
            decree_number="800/45/2025",
            sanction_statement="Kami siap menerima <sanksi> sesuai peraturan.",
        ),
        acting_user=approver_a,
    )
    html = client.get(charter_urls(charter.pk)[0]).content.decode()
    assert '<p class="poster-decree">Nomor SK 800/45/2025</p>' in html
    assert "Kami siap menerima &lt;sanksi&gt; sesuai peraturan." in html
    english = client.get("/en" + charter_urls(charter.pk)[0]).content.decode()
    assert "Decree No. 800/45/2025" in english
