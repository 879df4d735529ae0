"""The printable SKM report of a unit for a period (laporan hasil SKM), as a PDF.

The shape agencies publish: the period, respondents against the required sample, the
respondents' profile, the nine elements' NRR, IKM, converted index, grade, the lowest
elements, the suggestions received (with the unit's answers) and the follow-up planned. Every figure comes from `feedback.selectors.skm_report`
(so from feedback.skm): this module only lays them out, with the fonts and helpers of the
charter posters (system fonts, no download).
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from charter.posters import BRAND, MUTED, SOFT, poster_fonts
from feedback.selectors import SkmReport

REPORT_TITLE = "LAPORAN HASIL SURVEI KEPUASAN MASYARAKAT"
LINE = colors.HexColor("#d5d9de")


def grade_label(letter: str) -> str:
    """The regulation's words for a grade (mutu pelayanan), in the active language."""
    return {
        "A": _("Very good"),
        "B": _("Good"),
        "C": _("Less than good"),
        "D": _("Not good"),
    }[letter]


def period_dates(report: SkmReport) -> str:
    return (
        f"{formats.date_format(report.start, 'j F Y')} – {formats.date_format(report.end, 'j F Y')}"
    )


def sample_text(report: SkmReport) -> str:
    """Respondents against the Krejcie-Morgan sample, as one sentence."""
    figures = report.figures
    if figures is None:
        return ""
    if figures.sample_reached is None:
        return _(
            "No completed requests recorded for this period: the required sample cannot be "
            "computed."
        )
    verdict = _("sufficient") if figures.sample_reached else _("too small")
    detail = _(
        "at least %(required)s respondents needed for %(population)s completed requests "
        "(Krejcie and Morgan)"
    ) % {"required": figures.required_sample, "population": figures.population}
    return f"{verdict}: {detail}"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = poster_fonts()

    def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
        kw.setdefault("fontName", regular)
        kw.setdefault("leading", size * 1.3)
        return ParagraphStyle(name, fontSize=size, **kw)

    return {
        "agency": style("agency", 10, alignment=TA_CENTER, textColor=MUTED),
        "unit": style("unit", 13, fontName=bold, alignment=TA_CENTER),
        "title": style("title", 15, fontName=bold, alignment=TA_CENTER, textColor=BRAND),
        "period": style("period", 10, alignment=TA_CENTER, textColor=MUTED),
        "h2": style("h2", 12, fontName=bold, textColor=BRAND, spaceBefore=10, spaceAfter=4),
        "body": style("body", 10),
        "strong": style("strong", 10, fontName=bold),
        "small": style("small", 8, textColor=MUTED),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[Flowable]], widths: list[str], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[object, ...]] = [
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SOFT))
    table.setStyle(TableStyle(commands))
    return table


def skm_report_pdf(*, report: SkmReport, url: str) -> bytes:
    """The report as an A4 PDF (several pages when the suggestions are many)."""
    styles = _styles()
    unit = report.unit
    story: list[Flowable] = [
        _p(unit.agency.name, styles["agency"]),
        _p(unit.name, styles["unit"]),
        Spacer(1, 4),
        _p(REPORT_TITLE, styles["title"]),
        _p(
            f"{_('Period')} {report.period} ({period_dates(report)})",
            styles["period"],
        ),
        Spacer(1, 8),
    ]
    figures = report.figures
    if figures is None:
        story.append(_p(_("No survey responses in this period."), styles["strong"]))
    else:
        result = figures.result
        summary = [
            [_p(_("Respondents"), styles["body"]), _p(result.respondents, styles["strong"])],
            [_p(_("Sample"), styles["body"]), _p(sample_text(report), styles["body"])],
            [_p("IKM", styles["body"]), _p(formats.localize(result.ikm_shown), styles["strong"])],
            [
                _p(_("Converted index"), styles["body"]),
                _p(formats.localize(result.converted_shown), styles["strong"]),
            ],
            [
                _p(_("Grade"), styles["body"]),
                _p(f"{result.grade} ({grade_label(result.grade)})", styles["strong"]),
            ],
        ]
        story.append(_table(summary, ["35%", "65%"], header=False))

        story.append(_p(_("Mean score per element (NRR), 1 to 4"), styles["h2"]))
        rows: list[list[Flowable]] = [
            [_p(_("Element"), styles["strong"]), _p("NRR", styles["strong"])]
        ]
        for row in figures.elements:
            shown = formats.localize(row.nrr)
            nrr = f"{shown} ({_('lowest')})" if row.lowest else shown
            style = styles["strong"] if row.lowest else styles["body"]
            rows.append([_p(f"{row.element.code}. {row.element.name}", style), _p(nrr, style)])
        story.append(_table(rows, ["75%", "25%"]))

        story.append(_p(_("Lowest elements"), styles["h2"]))
        for row in figures.elements:
            if row.lowest:
                story.append(
                    _p(
                        f"{row.element.code}. {row.element.name}: {formats.localize(row.nrr)}",
                        styles["body"],
                    )
                )

        story.append(_p(_("Respondent profile"), styles["h2"]))
        for group in report.profile:
            rows = [[_p(str(group.label).capitalize(), styles["strong"]), _p("", styles["body"])]]
            rows += [
                [_p(count.label, styles["body"]), _p(count.count, styles["body"])]
                for count in group.counts
            ]
            story.append(_table(rows, ["75%", "25%"]))
            story.append(Spacer(1, 4))

        story.append(_p(_("Suggestions received"), styles["h2"]))
        if report.suggestions:
            for number, suggestion in enumerate(report.suggestions, start=1):
                story.append(_p(f"{number}. {suggestion.text}", styles["body"]))
                if suggestion.answer:
                    story.append(_p(f"{_('Answer')}: {suggestion.answer}", styles["small"]))
        else:
            story.append(_p("—", styles["body"]))

    story.append(_p(_("Follow-up planned"), styles["h2"]))
    story.append(_p(report.follow_up or _("Not recorded yet."), styles["body"]))

    story += [Spacer(1, 10), _p(url, styles["small"])]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"SKM {report.period} · {unit.name}",
        author=unit.agency.name,
        subject=url,
        creator="Maklumat",
        lang=get_language() or "id",
        invariant=True,
    )
    doc.build(story)
    return buffer.getvalue()
