"""Hostile spreadsheets for the import tests: real .xlsx files, edited at the zip level."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import openpyxl

BIG = "@@BIG@@"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MB = 1024 * 1024


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite(content: bytes, edits: dict[str, Callable[[bytes], Iterable[bytes]]]) -> bytes:
    """The workbook with each member named in `edits` replaced by the chunks the edit gives
    for its old bytes (b"" for a new member), written in a stream: a 50 MB member never
    sits in memory whole."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        names = source.namelist()
        for name in [*names, *(n for n in edits if n not in names)]:
            data = source.read(name) if name in names else b""
            if name not in edits:
                target.writestr(name, data)
                continue
            with target.open(name, "w", force_zip64=True) as member:
                for chunk in edits[name](data):
                    member.write(chunk)
    return out.getvalue()


def _text(size: int) -> Iterable[bytes]:
    phrase = b"Kartu tanda penduduk elektronik. "
    block = phrase * (MB // len(phrase))
    left = size
    while left > 0:
        yield block[:left]
        left -= len(block)


def bomb(rows: list[list[Any]], *, size: int = 50 * MB, shared: bool = False) -> bytes:
    """A real workbook whose cell holding BIG holds `size` bytes of repeated text instead:
    a few hundred KB on disk. openpyxl writes the text into the sheet (an inline string);
    `shared` moves it to the shared-strings part, as Excel writes it."""
    if not shared:

        def sheet(data: bytes) -> Iterable[bytes]:
            before, after = data.split(BIG.encode(), 1)
            yield before
            yield from _text(size)
            yield after

        return rewrite(xlsx(rows), {SHEET: sheet})

    def shared_sheet(data: bytes) -> Iterable[bytes]:
        yield re.sub(
            rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>' + BIG.encode() + rb"</t></is></c>",
            rb'<c r="\1" t="s"><v>0</v></c>',
            data,
        )

    def strings(_data: bytes) -> Iterable[bytes]:
        yield f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
        yield from _text(size)
        yield b"</t></si></sst>"

    def types(data: bytes) -> Iterable[bytes]:
        yield data.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )

    def relations(data: bytes) -> Iterable[bytes]:
        yield data.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            b"</Relationships>",
        )

    return rewrite(
        xlsx(rows),
        {
            SHEET: shared_sheet,
            STRINGS: strings,
            "[Content_Types].xml": types,
            "xl/_rels/workbook.xml.rels": relations,
        },
    )


def with_sheet(rows: list[list[Any]], edit: Callable[[str], str]) -> bytes:
    """A real workbook whose first worksheet's XML is edited as text."""
    return rewrite(xlsx(rows), {SHEET: lambda data: [edit(data.decode()).encode()]})
