"""Just enough PDF reading to test our posters without a PDF library.

Reads what reportlab writes: indirect objects, Flate/ASCII85 streams, a font
dictionary per page, TrueType subsets with a ToUnicode map, and text shown with
`Tj`. Not a general PDF parser.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*)endstream", re.S)
LENGTH = re.compile(rb"/Length (\d+)")
MEDIABOX = re.compile(rb"/MediaBox \[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")
FONT_REF = re.compile(rb"/(F[\w+]+) (\d+) 0 R")
TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+", re.S)
# Operators that start a new line or text object: read as a space between words.
LINE_OPERATORS = frozenset({b"T*", b"Td", b"TD", b"Tm", b"BT", b"ET", b"'", b'"'})
BFCHAR_BLOCK = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


@dataclass
class PdfObject:
    head: bytes
    stream: bytes | None


def objects(pdf: bytes) -> dict[int, PdfObject]:
    found: dict[int, PdfObject] = {}
    for match in OBJECT.finditer(pdf):
        body = match.group(2)
        stream_match = STREAM.search(body)
        head = body[: stream_match.start()] if stream_match else body
        stream = _decode(head, stream_match.group(1)) if stream_match else None
        found[int(match.group(1))] = PdfObject(head, stream)
    return found


def _decode(head: bytes, data: bytes) -> bytes:
    length = LENGTH.search(head)
    assert length is not None
    data = data[: int(length.group(1))]
    if b"/ASCII85Decode" in head:
        data = base64.a85decode(data.strip().removesuffix(b"~>"))
    if b"/FlateDecode" in head:
        data = zlib.decompress(data)
    return data


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page."""
    sizes = []
    for obj in objects(pdf).values():
        if b"/Type /Page\n" in obj.head or obj.head.rstrip().endswith(b"/Type /Page\n>>"):
            box = MEDIABOX.search(obj.head)
            assert box is not None
            x0, y0, x1, y1 = (float(v) for v in box.groups())
            sizes.append((x1 - x0, y1 - y0))
    return sizes


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        c = literal[i]
        if c == 0x5C:  # backslash
            i += 1
            nxt = literal[i : i + 1]
            if nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", literal[i:])
                assert digits is not None
                out.append(int(digits.group(), 8))
                i += len(digits.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def _font_decoders(objs: dict[int, PdfObject]) -> dict[bytes, dict[int, str] | None]:
    """Font resource name -> code-to-text map (None: a simple font in WinAnsi)."""
    decoders: dict[bytes, dict[int, str] | None] = {}
    for obj in objs.values():
        if obj.stream is not None or not obj.head.lstrip().startswith(b"<<\n/F"):
            continue
        for name, number in FONT_REF.findall(obj.head):
            font = objs[int(number)].head
            to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if to_unicode is None:
                decoders[name] = None
                continue
            cmap = objs[int(to_unicode.group(1))].stream or b""
            decoders[name] = {
                int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
                for block in BFCHAR_BLOCK.findall(cmap)
                for code, text in BFCHAR.findall(block)
            }
    return decoders


def text(pdf: bytes) -> str:
    """All text shown on the pages, whitespace collapsed (a line break reads as a space)."""
    objs = objects(pdf)
    decoders = _font_decoders(objs)
    shown: list[str] = []
    for obj in objs.values():
        if obj.stream is None or b"Tf" not in obj.stream:
            continue
        font: dict[int, str] | None = None
        operands: list[bytes] = []
        for token in TOKEN.findall(obj.stream):
            if token == b"Tf":
                font = decoders.get(operands[-2].lstrip(b"/"))
            elif token == b"Tj":
                raw = _unescape(operands[-1][1:-1])
                shown.append(
                    raw.decode("cp1252")
                    if font is None
                    else "".join(font.get(code, "\ufffd") for code in raw)
                )
            elif token in LINE_OPERATORS:
                shown.append(" ")
            if token.startswith((b"(", b"/")) or re.fullmatch(rb"[-\d.]+", token):
                operands.append(token)
            else:
                operands = []
    return " ".join("".join(shown).split())
