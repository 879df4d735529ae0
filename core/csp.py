"""Content-Security-Policy violation reports: read what browsers send, log one line each.

Two shapes arrive. The `report-uri` directive makes a browser POST one report as
`application/csp-report` (some send `application/json`): `{"csp-report": {"document-uri":
..., "effective-directive": ...}}`. The Reporting API (`report-to`) POSTs a batch as
`application/reports+json`: `[{"type": "csp-violation", "body": {"documentURL": ...}}]`,
possibly mixed with reports of other types, which are not ours to log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger("maklumat.csp")

LEGACY_TYPES = ("application/csp-report", "application/json")
REPORTING_API_TYPE = "application/reports+json"
# A report is about a kilobyte; a Reporting API batch holds a few.
REPORT_MAX_BYTES = 64 * 1024
# Per client address: a page with a real problem reports it on every view; more than this is
# a loop or a flood, and the log has seen the point already.
REPORT_RATE = "30/m"
# Longest value kept of each field in the log line.
FIELD_MAX_CHARS = 200
# Refusals we expect on every view of a page, logged at DEBUG only, so that the warnings stay
# worth reading: (directive, blocked URL). ReDoc's sidebar always shows Redocly's logo from
# their CDN (no option turns it off); the policy refuses it, as it should.
EXPECTED_VIOLATIONS = frozenset({("img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")})


class InvalidReport(ValueError):
    """The body is not a violation report of a shape we know."""


@dataclass(frozen=True)
class Violation:
    directive: str
    blocked: str
    document: str
    source: str
    line: str
    disposition: str

    @property
    def expected(self) -> bool:
        return (self.directive, self.blocked) in EXPECTED_VIOLATIONS

    def log_line(self) -> str:
        return (
            f"csp violation: directive={self.directive} blocked={self.blocked} "
            f"document={self.document} source={self.source}:{self.line} "
            f"disposition={self.disposition}"
        )


def _clean(value: Any) -> str:
    """One short printable token: no control characters (a report cannot forge a log line)."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() and not ch.isspace() else "_" for ch in text)
    return text[:FIELD_MAX_CHARS] or "-"


def _url(value: Any) -> str:
    """A reported URL without its query and fragment: they may hold what a visitor typed."""
    text = "" if value is None else str(value)
    try:
        parts = urlsplit(text)
    except ValueError:
        return _clean(text.split("?", 1)[0])
    if parts.scheme and parts.netloc:
        return _clean(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    return _clean(text.split("?", 1)[0].split("#", 1)[0])


def _legacy(body: Mapping[str, Any]) -> Violation:
    return Violation(
        directive=_clean(body.get("effective-directive") or body.get("violated-directive")),
        blocked=_url(body.get("blocked-uri")),
        document=_url(body.get("document-uri")),
        source=_url(body.get("source-file")),
        line=_clean(body.get("line-number")),
        disposition=_clean(body.get("disposition")),
    )


def _reporting_api(body: Mapping[str, Any]) -> Violation:
    return Violation(
        directive=_clean(body.get("effectiveDirective")),
        blocked=_url(body.get("blockedURL")),
        document=_url(body.get("documentURL")),
        source=_url(body.get("sourceFile")),
        line=_clean(body.get("lineNumber")),
        disposition=_clean(body.get("disposition")),
    )


def csp_reports_parse(*, body: bytes, content_type: str) -> list[Violation]:
    """The violations in a report request's body; InvalidReport when it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidReport("not JSON") from exc
    if content_type == REPORTING_API_TYPE:
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise InvalidReport("a Reporting API body is a list of reports")
        violations = []
        for item in data:
            if item.get("type") != "csp-violation":
                continue
            if not isinstance(item.get("body"), dict):
                raise InvalidReport("a csp-violation report has a body object")
            violations.append(_reporting_api(item["body"]))
        return violations
    if not isinstance(data, dict) or not isinstance(data.get("csp-report"), dict):
        raise InvalidReport('a report-uri body is {"csp-report": {...}}')
    return [_legacy(data["csp-report"])]


def csp_violations_log(violations: list[Violation]) -> None:
    for violation in violations:
        level = logging.DEBUG if violation.expected else logging.WARNING
        logger.log(level, "%s", violation.log_line())
