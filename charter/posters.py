"""Printable posters: the citizen charter (maklumat pelayanan) and a service's standard.

Offices print these and hang them at the service point (UU 25/2009 Pasal 22 asks
that the maklumat be displayed). Each poster carries a QR code to the online page,
so a citizen can check the live standard and report a problem from their phone.

Plain functions: the views only look the object up and pick the size.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import segno
from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A3, A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from charter.models import Charter, CharterStatus
from core.templatetags.maklumat import rupiah
from services.models import Service, StandardVersion
from services.selectors import current_version, service_get_public

PosterSize = Literal["a4", "a3"]
PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "a3": A3}
# A3 is A4 scaled by the square root of two: the same layout, read from further away.
SCALE: dict[str, float] = {"a4": 1.0, "a3": 2**0.5}

# Published charters and standards never change, so a poster can be cached by
# browsers and shared caches; a day bounds how long a superseded one is served.
POSTER_MAX_AGE = 24 * 60 * 60

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
BRAND = colors.HexColor("#0b5d4b")
MUTED = colors.HexColor("#545b64")
SOFT = colors.HexColor("#f4f6f8")

# The legal names of the two documents, printed as they are known at every office.
CHARTER_TITLE = "MAKLUMAT PELAYANAN"
STANDARD_TITLE = "STANDAR PELAYANAN"


def poster_size(value: str | None) -> PosterSize:
    """The paper size asked for in a query string; anything unknown is A4."""
    return "a3" if (value or "").strip().lower() == "a3" else "a4"


# --- Reads --------------------------------------------------------------------
def charter_get_for_poster(*, pk: int) -> Charter:
    """A published or superseded charter (drafts are never public; a withdrawn charter
    must not be printed and hung again)."""
    return (
        Charter.objects.select_related("unit__agency")
        .filter(status__in=(CharterStatus.PUBLISHED, CharterStatus.SUPERSEDED))
        .get(pk=pk)
    )


def charter_services(charter: Charter) -> QuerySet[Service]:
    return charter.services.select_related("agency").order_by("name")


def standard_get_for_poster(*, agency_slug: str, slug: str) -> StandardVersion:
    """The current published version of a service's standard, with its content."""
    service = service_get_public(agency_slug=agency_slug, slug=slug)
    version = current_version(service)
    if version is None:
        raise StandardVersion.DoesNotExist("This service has no published standard.")
    return version


# --- QR code ------------------------------------------------------------------
def qr_code(url: str) -> segno.QRCode:
    """The QR code of a public page's absolute URL (error level M, boosted when free)."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, title: str = "") -> str:
    """Inline SVG of the QR code for `url`; sized by CSS (viewBox, no width/height)."""
    return qr_code(url).svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        title=title or url,
        svgclass="poster-qr-code",
        lineclass=None,
        dark="#000",
        light="#fff",
    )


class QRFlowable(Flowable):
    """A QR code drawn as vector rectangles (sharp at any print size), linked to its URL."""

    QUIET_ZONE = 4

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.matrix = qr_code(url).matrix

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas = self.canv
        count = len(self.matrix)
        module = self.size / (count + 2 * self.QUIET_ZONE)
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        path = canvas.beginPath()
        for row_index, row in enumerate(self.matrix):
            y = self.size - (self.QUIET_ZONE + row_index + 1) * module
            for start, length in _dark_runs(row):
                x = (self.QUIET_ZONE + start) * module
                path.rect(x, y, length * module, module)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()
        canvas.linkURL(self.url, (0, 0, self.size, self.size), relative=1, thickness=0)


def _dark_runs(row: Iterable[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a matrix row."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    index = 0
    for index, value in enumerate(row):
        if value and start is None:
            start = index
        elif not value and start is not None:
            runs.append((start, index - start))
            start = None
    if start is not None:
        runs.append((start, index + 1 - start))
    return runs


# --- Fonts and styles -----------------------------------------------------------
@functools.cache
def poster_fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans when installed (full Latin), else Helvetica."""
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU_DIR / "DejaVuSans.ttf")))
    except (OSError, TTFError):
        return "Helvetica", "Helvetica-Bold"
    bold = "DejaVuSans"
    try:
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(DEJAVU_DIR / "DejaVuSans-Bold.ttf")))
        bold = "DejaVuSans-Bold"
    except (OSError, TTFError):
        pass
    pdfmetrics.registerFontFamily(
        "DejaVuSans", normal="DejaVuSans", bold=bold, italic="DejaVuSans", boldItalic=bold
    )
    return "DejaVuSans", bold


def _styles(scale: float) -> dict[str, ParagraphStyle]:
    regular, bold = poster_fonts()

    def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
        kw.setdefault("fontName", regular)
        kw.setdefault("leading", size * 1.3 * scale)
        return ParagraphStyle(name, fontSize=size * scale, **kw)

    return {
        "agency": style("agency", 11, alignment=TA_CENTER, textColor=MUTED),
        "unit": style("unit", 15, fontName=bold, alignment=TA_CENTER),
        "title": style(
            "title", 28, fontName=bold, alignment=TA_CENTER, textColor=BRAND, spaceBefore=8 * scale
        ),
        "subtitle": style("subtitle", 13, alignment=TA_CENTER, textColor=MUTED),
        "name": style("name", 19, fontName=bold, alignment=TA_CENTER, spaceBefore=4 * scale),
        "notice": style(
            "notice",
            11,
            fontName=bold,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#8a5300"),
            spaceBefore=6 * scale,
        ),
        "pledge": style("pledge", 15, alignment=TA_JUSTIFY, leading=15 * 1.45 * scale),
        "h2": style(
            "h2", 13, fontName=bold, textColor=BRAND, spaceBefore=10 * scale, spaceAfter=3 * scale
        ),
        "body": style("body", 11),
        "strong": style("strong", 11, fontName=bold),
        "small": style("small", 9, textColor=MUTED),
        "center_small": style("center_small", 9, textColor=MUTED, alignment=TA_CENTER),
        "fact_label": style("fact_label", 10, textColor=MUTED),
        "fact_value": style("fact_value", 15, fontName=bold),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain (stored or translated) text, escaped for reportlab's markup."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _date(value: dt.date | None) -> str:
    return formats.date_format(value, "j F Y") if value else ""


def _bullets(items: Sequence[Flowable], scale: float, *, numbered: bool) -> ListFlowable:
    regular, _bold = poster_fonts()
    return ListFlowable(
        [ListItem(item) for item in items],
        bulletType="1" if numbered else "bullet",
        start="1" if numbered else "•",
        bulletFontName=regular,
        bulletFontSize=11 * scale,
        leftIndent=16 * scale,
    )


def _qr_block(url: str, scale: float, caption: str, styles: dict[str, ParagraphStyle]) -> Table:
    qr_size = 42 * mm * scale
    table = Table(
        [[QRFlowable(url, qr_size), _p(caption, styles["strong"])]],
        colWidths=[qr_size + 4 * mm * scale, None],
    )
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    return table


def _url_line(url: str, styles: dict[str, ParagraphStyle]) -> Paragraph:
    """The address in print, for those who type it: full width, so it rarely wraps."""
    return _p(url, styles["small"])


def _build(story: list[Flowable], *, size: PosterSize, title: str, author: str, url: str) -> bytes:
    buffer = io.BytesIO()
    margin = 15 * mm * SCALE[size]
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZES[size],
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=author,
        subject=url,
        creator="Maklumat",
        lang=get_language() or "id",
        invariant=True,
    )
    doc.build(story)
    return buffer.getvalue()


def _header(
    styles: dict[str, ParagraphStyle], *, agency: str, unit: str, title: str, subtitle: str
) -> list[Flowable]:
    story: list[Flowable] = [_p(agency, styles["agency"]), _p(unit, styles["unit"])]
    story.append(_p(title, styles["title"]))
    # The legal name stands as printed; readers of another language get it explained.
    if not (get_language() or "id").startswith("id"):
        story.append(_p(subtitle, styles["subtitle"]))
    return story


# --- The citizen charter ----------------------------------------------------------
def compensation_text(charter: Charter) -> str:
    """The compensation promise in the active language, or "" when there is none."""
    if not charter.compensation_per_day:
        return ""
    text = _("If a service is late, the unit pays %(amount)s for each day of delay") % {
        "amount": rupiah(charter.compensation_per_day)
    }
    if charter.compensation_cap:
        text += " (" + _("at most %(cap)s") % {"cap": rupiah(charter.compensation_cap)} + ")"
    return text + "."


def decree_text(charter: Charter) -> str:
    """The decree that enacted the charter, or "" when it names none."""
    if not charter.decree_number:
        return ""
    return _("Decree No. %(number)s") % {"number": charter.decree_number}


def charter_poster_pdf(*, charter: Charter, url: str, size: PosterSize) -> bytes:
    """The maklumat pelayanan as a one-page PDF poster (it flows on when many services)."""
    scale = SCALE[size]
    # A charter is short and read from a few steps away: larger type than the standard.
    text_scale = scale * 1.25
    styles = _styles(text_scale)
    unit = charter.unit
    story = _header(
        styles,
        agency=unit.agency.name,
        unit=unit.name,
        title=CHARTER_TITLE,
        subtitle=_("Citizen charter"),
    )
    if charter.status == CharterStatus.SUPERSEDED:
        story.append(_p(_("This charter has been superseded by a newer one."), styles["notice"]))
    story.append(Spacer(1, 10 * scale))

    pledge = Table([[_p(charter.pledge, styles["pledge"])]])
    pledge.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SOFT),
                ("LINEBEFORE", (0, 0), (0, -1), 4 * scale, BRAND),
                ("LEFTPADDING", (0, 0), (-1, -1), 12 * scale),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12 * scale),
                ("TOPPADDING", (0, 0), (-1, -1), 10 * scale),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10 * scale),
            ]
        )
    )
    story.append(pledge)
    compensation = compensation_text(charter)
    if compensation:
        story += [Spacer(1, 6 * scale), _p(compensation, styles["strong"])]
    if charter.sanction_statement:
        story += [Spacer(1, 6 * scale), _p(charter.sanction_statement, styles["body"])]

    services = [_p(s.name, styles["body"]) for s in charter_services(charter)]
    story.append(_p(_("Services covered"), styles["h2"]))
    story.append(
        _bullets(services, text_scale, numbered=False) if services else _p("—", styles["body"])
    )
    story.append(Spacer(1, 12 * scale))

    signature: list[Flowable] = [
        _p(_date(charter.signed_on), styles["body"]),
        _p(charter.signatory_title, styles["body"]),
        Spacer(1, 36 * scale),  # room for the signature and the office stamp
        _p(charter.signatory_name, styles["strong"]),
    ]
    if charter.decree_number:
        signature.append(_p(decree_text(charter), styles["body"]))
    qr = _qr_block(
        url, scale, _("Scan to read this charter and the standards of its services online"), styles
    )
    bottom = Table([[qr, signature]], colWidths=["62%", "38%"])
    bottom.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    story.append(KeepTogether([bottom, _url_line(url, styles)]))
    return _build(
        story,
        size=size,
        title=f"{CHARTER_TITLE} · {unit.name}",
        author=unit.agency.name,
        url=url,
    )


# --- A service's standard ---------------------------------------------------------
def duration_text(value: int | None, unit_label: str) -> str:
    return f"{value} {unit_label}" if value else ""


def cost_text(version: StandardVersion) -> str:
    if version.is_free or not version.total_cost:
        return _("Free")
    return rupiah(version.total_cost)


def standard_poster_pdf(*, version: StandardVersion, url: str, size: PosterSize) -> bytes:
    """The essentials of a published standard as a PDF poster for the service point."""
    scale = SCALE[size]
    styles = _styles(scale)
    service = version.service
    story = _header(
        styles,
        agency=service.agency.name,
        unit=service.unit.name,
        title=STANDARD_TITLE,
        subtitle=_("Service standard"),
    )
    story.append(_p(service.name, styles["name"]))
    story.append(Spacer(1, 10 * scale))

    processing = duration_text(
        version.processing_time_value, str(version.get_processing_time_unit_display())
    )
    facts = Table(
        [
            [_p(_("Processing time"), styles["fact_label"]), _p(_("Cost"), styles["fact_label"])],
            [
                _p(processing or "—", styles["fact_value"]),
                _p(cost_text(version), styles["fact_value"]),
            ],
            [
                _p(f"{_('counted')} {version.get_clock_start_display()}", styles["small"]),
                "",
            ],
        ],
        colWidths=["55%", "45%"],
    )
    facts.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SOFT),
                ("LINEBEFORE", (0, 0), (0, -1), 4 * scale, BRAND),
                ("LEFTPADDING", (0, 0), (-1, -1), 10 * scale),
                ("TOPPADDING", (0, 0), (-1, 0), 8 * scale),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8 * scale),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(facts)
    if version.product:
        story += [
            _p(_("Product"), styles["h2"]),
            _p(version.product, styles["body"]),
        ]

    requirements = []
    for req in version.requirements.all():
        text = escape(req.name)
        if not req.is_mandatory:
            text += f" <i>({escape(_('if applicable'))})</i>"
        requirements.append(Paragraph(text, styles["body"]))
    story.append(_p(_("Requirements"), styles["h2"]))
    story.append(
        _bullets(requirements, scale, numbered=True) if requirements else _p("—", styles["body"])
    )

    steps = []
    for step in version.steps.all():
        text = f"<b>{escape(step.actor)}</b>: {escape(step.description)}"
        duration = duration_text(step.duration_value, str(step.get_duration_unit_display()))
        if duration:
            text += f" ({escape(duration)})"
        steps.append(Paragraph(text, styles["body"]))
    story.append(_p(_("Procedure"), styles["h2"]))
    story.append(_bullets(steps, scale, numbered=True) if steps else _p("—", styles["body"]))

    items = list(version.cost_items.all())
    if items:
        story.append(_p(_("Cost"), styles["h2"]))
        rows = [[_p(i.name, styles["body"]), _p(rupiah(i.amount), styles["body"])] for i in items]
        cost_table = Table(rows, colWidths=["70%", "30%"])
        cost_table.setStyle(
            TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#d5d9de"))])
        )
        story.append(cost_table)

    channels = [
        _p(f"{ch.get_kind_display()}: {ch.value}", styles["body"])
        for ch in version.complaint_channels.all()
    ]
    story.append(_p(_("Complaints, suggestions and feedback"), styles["h2"]))
    story.append(_bullets(channels, scale, numbered=False) if channels else _p("—", styles["body"]))
    story.append(Spacer(1, 12 * scale))

    meta = _("Version %(number)s") % {"number": version.number}
    if version.effective_date:
        meta += f" · {_('In force since')} {_date(version.effective_date)}"
    if version.decree_number:
        meta += f" · {_('Decree')} {version.decree_number}"
    story.append(
        KeepTogether(
            [
                _qr_block(url, scale, _("Scan to check this standard online"), styles),
                _url_line(url, styles),
                Spacer(1, 4 * scale),
                _p(meta, styles["small"]),
            ]
        )
    )
    return _build(
        story,
        size=size,
        title=f"{STANDARD_TITLE} · {service.name}",
        author=service.agency.name,
        url=url,
    )
