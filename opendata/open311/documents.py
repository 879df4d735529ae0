"""The two wire formats of GeoReport v2, from one tree of plain values.

A document is a dict (an element with children, in order), a list (repeated children,
named by ITEM_TAGS after their parent) or a scalar. XML writes `true`/`false` for
booleans and an empty element for None; JSON (the spec's Spark convention) writes the
lists as arrays, booleans as booleans and None as null.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

XML = "xml"
JSON = "json"
FORMATS = (XML, JSON)
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}
MIME_TYPES = ("text/xml", "application/json")
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# The element a list's items are written as, after the list's own element.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (stored text should never hold them: core.text).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def w3_datetime(value: dt.datetime | None) -> str | None:
    """ISO 8601 (the W3C profile) in the registry's time zone, with its offset:
    2026-12-07T09:30:00+07:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, document)
    ET.indent(element)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode") + "\n").encode()


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def render(fmt: str, root: str, document: Any, *, status: int = 200) -> HttpResponse:
    body = to_xml(root, document) if fmt == XML else to_json(document)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error list: one {code, description} per problem, the code being the
    HTTP status (404 for what does not exist, 403 for the api_key, 400 otherwise)."""
    document = [{"code": status, "description": text} for text in descriptions]
    return render(fmt if fmt in FORMATS else XML, "errors", document, status=status)
