"""The poster building blocks: QR code, paper size, text, and the PDFs themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import segno
from django.contrib.staticfiles import finders
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from charter import posters
from charter.models import CharterStatus
from tests.charter import pdftext
from tests.charter.qrread import segno_matrix, svg_matrix

A4 = (595.2756, 841.8898)
A3 = (841.8898, 1190.5512)
URL = "https://maklumat.example.go.id/charters/7/"


def assert_page_size(pdf: bytes, expected: tuple[float, float]) -> None:
    sizes = pdftext.page_sizes(pdf)
    assert sizes, "no page"
    for width, height in sizes:
        assert width == pytest.approx(expected[0], abs=0.01)
        assert height == pytest.approx(expected[1], abs=0.01)


# --- QR code ------------------------------------------------------------------
def test_qr_svg_encodes_exactly_the_url() -> None:
    svg = posters.qr_svg(URL)
    assert svg.startswith("<svg")
    assert svg_matrix(svg) == segno_matrix(segno.make(URL, error="m").matrix)
    assert svg_matrix(svg) != segno_matrix(segno.make(URL.replace("7", "8"), error="m").matrix)


def test_qr_svg_title_names_the_url_and_is_escaped() -> None:
    svg = posters.qr_svg(URL, title='QR <"x"> & more')
    assert "<title>QR &lt;" in svg
    assert "<script" not in posters.qr_svg("https://x.example/<script>", title="<script>")
    assert f"<title>{URL}</title>" in posters.qr_svg(URL)


@given(st.lists(st.integers(min_value=0, max_value=1), max_size=60))
def test_dark_runs_rebuild_the_row(row: list[int]) -> None:
    rebuilt = [0] * len(row)
    for start, length in posters._dark_runs(row):
        assert length > 0
        for i in range(start, start + length):
            assert rebuilt[i] == 0, "runs overlap"
            rebuilt[i] = 1
    assert rebuilt == row


@pytest.mark.parametrize(
    ("given_size", "expected"),
    [(None, "a4"), ("", "a4"), ("a4", "a4"), ("A3", "a3"), (" a3 ", "a3"), ("letter", "a4")],
)
def test_poster_size_defaults_to_a4(given_size: str | None, expected: str) -> None:
    assert posters.poster_size(given_size) == expected


def test_print_css_declares_a4_and_a3_pages() -> None:
    path = finders.find("css/print.css")
    assert path is not None
    css = Path(path).read_text(encoding="utf-8")
    assert "@page { size: A4 portrait;" in css
    assert "@page poster-a3 { size: A3 portrait;" in css
    assert ".poster-a3 {" in css and "page: poster-a3" in css


# --- Text -----------------------------------------------------------------------
def test_compensation_text_in_rupiah_per_language(published_charter) -> None:
    with translation.override("id"):
        text = posters.compensation_text(published_charter)
    assert "Rp 20.000" in text and "Rp 500.000" in text
    with translation.override("en"):
        text = posters.compensation_text(published_charter)
    assert text == (
        "If a service is late, the unit pays Rp 20,000 for each day of delay (at most Rp 500,000)."
    )


def test_no_compensation_promise_no_text(unit_a, service_a, editor_a) -> None:
    from tests.factories import CharterFactory

    charter = CharterFactory.create(
        unit=unit_a,
        services=[service_a],
        acting_user=editor_a,
        compensation_per_day=None,
        compensation_cap=None,
    )
    assert posters.compensation_text(charter) == ""


# --- PDFs -----------------------------------------------------------------------
@pytest.mark.parametrize(("size", "expected"), [("a4", A4), ("a3", A3)])
def test_charter_pdf_has_the_poster_content(published_charter, size, expected) -> None:
    with translation.override("id"):
        pdf = posters.charter_poster_pdf(charter=published_charter, url=URL, size=size)
    assert pdf.startswith(b"%PDF")
    assert_page_size(pdf, expected)
    assert len(pdftext.page_sizes(pdf)) == 1
    text = pdftext.text(pdf)
    unit = published_charter.unit
    for expected_text in (
        unit.name,
        unit.agency.name,
        "MAKLUMAT PELAYANAN",
        "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar).",
        "Rp 20.000",
        "Rp 500.000",
        "Dra. Siti Rahmawati",
        "Kepala Unit Pelayanan",
        "2 Januari 2025",
        "Layanan yang dicakup",  # "Services covered", in Indonesian
        "Kartu Tanda Penduduk Elektronik",
        URL,
    ):
        assert expected_text in text, expected_text
    # The QR code is a link to the same page, and the document says which page it prints.
    assert f"/URI ({URL})".encode() in pdf
    assert f"/Subject ({URL})".encode() in pdf


def test_charter_pdf_ui_text_follows_the_language(published_charter) -> None:
    with translation.override("en"):
        text = pdftext.text(
            posters.charter_poster_pdf(charter=published_charter, url=URL, size="a4")
        )
    assert "MAKLUMAT PELAYANAN" in text  # the document's legal name stays
    assert "Citizen charter" in text
    assert "Services covered" in text
    assert "Rp 20,000" in text
    assert "2 January 2025" in text


def test_superseded_charter_pdf_says_so(superseded_charter) -> None:
    assert superseded_charter.status == CharterStatus.SUPERSEDED
    with translation.override("en"):
        text = pdftext.text(
            posters.charter_poster_pdf(charter=superseded_charter, url=URL, size="a4")
        )
    assert "This charter has been superseded by a newer one." in text


def test_pdf_uses_dejavu_when_installed() -> None:
    regular, bold = posters.poster_fonts()
    if (posters.DEJAVU_DIR / "DejaVuSans.ttf").exists():
        assert (regular, bold) == ("DejaVuSans", "DejaVuSans-Bold")
    else:
        assert (regular, bold) == ("Helvetica", "Helvetica-Bold")


@pytest.mark.parametrize(("size", "expected"), [("a4", A4), ("a3", A3)])
def test_standard_pdf_has_the_essentials(service_a, size, expected) -> None:
    version = posters.standard_get_for_poster(agency_slug="dinas-a", slug=service_a.slug)
    url = "https://maklumat.example.go.id/agencies/dinas-a/services/ktp/"
    with translation.override("en"):
        pdf = posters.standard_poster_pdf(version=version, url=url, size=size)
    assert pdf.startswith(b"%PDF")
    assert_page_size(pdf, expected)
    text = pdftext.text(pdf)
    for expected_text in (
        "STANDAR PELAYANAN",
        "Service standard",
        "Kartu Tanda Penduduk Elektronik",
        "Processing time",
        "5 working days",
        "Free",
        "KTP-el",
        "Kartu Keluarga",
        "Petugas loket: Memeriksa berkas (15 minutes)",
        "Operator: Merekam data (2 hours)",
        "Phone: 022-000",
        "SP4N-LAPOR!: lapor.go.id",
        "800/12-Disdukcapil",
        url,
    ):
        assert expected_text in text, expected_text
    assert f"/URI ({url})".encode() in pdf


def test_standard_pdf_lists_costs_in_rupiah(agency_a, unit_a, editor_a, approver_a) -> None:
    from tests.charter.conftest import publish_standard
    from tests.registry import make_service

    service = make_service(agency_a, unit_a, "Izin Reklame", acting_user=editor_a)
    version = publish_standard(
        service,
        editor_a,
        approver_a,
        data={"is_free": False},
        children={"cost_items": [{"name": "Retribusi", "amount": 150000}]},
    )
    with translation.override("id"):
        text = pdftext.text(posters.standard_poster_pdf(version=version, url=URL, size="a4"))
    assert "Retribusi" in text
    assert "Rp 150.000" in text
    assert "Gratis" not in text


def test_the_poster_prints_the_decree_and_the_sanction_statement(
    unit_a, service_a, editor_a, approver_a
) -> None:
    """The signed maklumat names the decree that enacted it and the sanction it accepts."""
    from charter.services import charter_publish
    from tests.factories import CharterFactory

    charter = charter_publish(
        charter=CharterFactory.create(
            unit=unit_a,
            services=[service_a],
            acting_user=editor_a,
            decree_number="800/45/Disdukcapil/2025",
            sanction_statement="Apabila kami ingkar, kami siap menerima sanksi sesuai peraturan.",
        ),
        acting_user=approver_a,
    )
    with translation.override("id"):
        text = pdftext.text(posters.charter_poster_pdf(charter=charter, url=URL, size="a4"))
    assert "Nomor SK 800/45/Disdukcapil/2025" in text
    assert "Apabila kami ingkar, kami siap menerima sanksi sesuai peraturan." in text
    with translation.override("en"):
        assert posters.decree_text(charter) == "Decree No. 800/45/Disdukcapil/2025"


def test_a_charter_without_decree_or_sanction_prints_neither(published_charter) -> None:
    assert posters.decree_text(published_charter) == ""
    with translation.override("id"):
        text = pdftext.text(
            posters.charter_poster_pdf(charter=published_charter, url=URL, size="a4")
        )
    assert "Nomor SK" not in text
