"""In Chromium: the poster page renders, prints on the right paper, and its PDF downloads."""

from __future__ import annotations

import re

import pytest

from tests.charter import pdftext
from tests.charter.test_posters import A3, A4

pytestmark = pytest.mark.e2e

MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


def printed_page_sizes(pdf: bytes) -> set[tuple[int, int]]:
    """Page sizes (rounded points) of a PDF printed by Chromium."""
    return {(round(float(w)), round(float(h))) for w, h in MEDIABOX.findall(pdf)}


def test_charter_poster_prints_and_downloads(transactional_db, page, published_charter):
    pk = published_charter.pk
    page.goto(f"/charters/{pk}/poster/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == "MAKLUMAT PELAYANAN"
    pledge = page.locator("blockquote.poster-pledge")
    assert pledge.inner_text() == (
        "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar)."
    )
    qr = page.locator("article.poster svg.poster-qr-code")
    assert qr.count() == 1 and qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] > 100 and box["width"] == pytest.approx(box["height"])
    assert (qr.locator("title").text_content() or "").endswith(f"/charters/{pk}/")

    # Printing: the toolbar disappears and Chromium takes the paper size from @page.
    toolbar = page.locator("nav.poster-toolbar")
    assert toolbar.is_visible()
    page.emulate_media(media="print")
    assert not toolbar.is_visible()
    assert printed_page_sizes(page.pdf(prefer_css_page_size=True)) == {(595, 842)}
    page.emulate_media(media="screen")

    # The PDF download link.
    download = page.locator("a.poster-button")
    href = download.get_attribute("href")
    assert href == f"/charters/{pk}/poster.pdf?size=a4"
    response = page.request.get(href)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    body = response.body()
    assert body.startswith(b"%PDF")
    assert pdftext.page_sizes(body) == [pytest.approx(A4, abs=0.01)]
    assert "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar)." in (
        pdftext.text(body)
    )

    # A3: the page and the print follow.
    page.get_by_role("link", name="A3", exact=True).click()
    page.wait_for_url(re.compile(r"size=a3$"))
    assert page.locator("article.poster-a3").count() == 1
    page.emulate_media(media="print")
    assert printed_page_sizes(page.pdf(prefer_css_page_size=True)) == {(842, 1191)}
    page.emulate_media(media="screen")
    a3 = page.request.get(page.locator("a.poster-button").get_attribute("href"))
    assert pdftext.page_sizes(a3.body()) == [pytest.approx(A3, abs=0.01)]


def test_standard_poster_in_english(transactional_db, page, service_a):
    page.goto(f"/en/charters/service/dinas-a/{service_a.slug}/poster/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Kartu Tanda Penduduk Elektronik"
    assert page.get_by_text("5 working days").is_visible()
    assert page.locator("svg.poster-qr-code").is_visible()
    page.get_by_role("link", name="Bahasa Indonesia").click()
    page.wait_for_url(re.compile(rf"^[^?]*/charters/service/dinas-a/{service_a.slug}/poster/$"))
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", name="Persyaratan").is_visible()
    response = page.request.get(page.locator("a.poster-button").get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
