"""What the Content-Security-Policy tests look for, in templates and in served pages alike,
and a registry with one page of every type to look at."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone

# A tag's opening, up to its first ">" (template tags inside it included).
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>")
# An attribute name at the start of the tag's text, after a space, or right after a template
# tag ({% if %}style="..."{% endif %}).
_ATTRIBUTE = r"(?:^|[\s}}])({name})\s*="
_HANDLER = re.compile(_ATTRIBUTE.format(name=r"on[a-zA-Z]+"))
_STYLE_ATTRIBUTE = re.compile(_ATTRIBUTE.format(name="style"), re.IGNORECASE)
_SRC = re.compile(_ATTRIBUTE.format(name="src"), re.IGNORECASE)
_NONCE = re.compile(_ATTRIBUTE.format(name="nonce"), re.IGNORECASE)
_TYPE = re.compile(r"(?:^|\s)type\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.IGNORECASE)
# Data blocks: the browser never runs them, so CSP does not govern them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def inline_code(html: str) -> list[str]:
    """Every inline script without a nonce, <style> element, style attribute, event-handler
    attribute and javascript: URL in a page or template: what a strict policy refuses."""
    found: list[str] = []
    for match in _TAG.finditer(html):
        name, attributes = match.group(1).lower(), match.group(2)
        snippet = match.group(0)[:120]
        if name == "script":
            script_type = _TYPE.search(attributes)
            is_data = script_type is not None and script_type.group(1).lower() in DATA_SCRIPT_TYPES
            if not (is_data or _SRC.search(attributes) or _NONCE.search(attributes)):
                found.append(f"inline <script> without a nonce: {snippet}")
        elif name == "style":
            found.append(f"<style> element: {snippet}")
        if _STYLE_ATTRIBUTE.search(attributes):
            found.append(f"style attribute: {snippet}")
        if _HANDLER.search(attributes):
            found.append(f"event-handler attribute: {snippet}")
        if _JAVASCRIPT_URL.search(attributes):
            found.append(f"javascript: URL: {snippet}")
    return found


def parse_policy(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for directive in header.split(";"):
        parts = directive.split()
        if parts:
            policy[parts[0].lower()] = parts[1:]
    return policy


def policy_problems(
    header: str, *, allowed: Mapping[str, Collection[str]] | None = None
) -> list[str]:
    """Why a Content-Security-Policy header is not the strict one (empty when it is).

    `allowed`: the sources a page may add to a directive besides 'self' and 'none'."""
    policy = parse_policy(header)
    problems: list[str] = []
    required = {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "report-uri": ["/csp-report/"],
    }
    for directive, value in required.items():
        if policy.get(directive) != value:
            problems.append(f"{directive} is {policy.get(directive)!r}, expected {value!r}")
    for directive in ("script-src", "style-src", "img-src"):
        sources = policy.get(directive)
        if not sources or sources[0] != "'self'":
            problems.append(f"{directive} is {sources!r}, expected 'self' first")
    for directive, sources in policy.items():
        if directive == "report-uri":
            continue
        extra = set((allowed or {}).get(directive, ()))
        problems += [
            f"{directive} allows {source}"
            for source in sources
            if source not in {"'self'", "'none'"} | extra
        ]
    return problems


def nonces(html: str) -> set[str]:
    return set(re.findall(r"\snonce=\"([^\"]+)\"", html))


def page_type_urls(*, editor: Any, agency: Any, unit: Any) -> dict[str, str]:
    """The demo registry, plus a consultation, a tracked delivery and a draft in `agency`
    (edited by `editor`): the URLs of the pages the demo alone lacks."""
    from charter.models import Charter
    from delivery.services import delivery_record
    from demo.management.commands.seed_demo import seed_registry
    from services.models import Service
    from services.services import standard_open_consultation
    from tests.registry import make_draft, make_service

    seed_registry()
    consultation = standard_open_consultation(
        version=make_draft(make_service(agency, unit, name="Izin Konsultasi")),
        closes_on=timezone.localdate() + dt.timedelta(days=7),
        acting_user=editor,
    )
    service = Service.objects.get(slug="ktp-el")
    delivery, _ = delivery_record(
        service=service, reference="CSP-1", submitted_at=timezone.now() - dt.timedelta(hours=1)
    )
    draft = make_draft(make_service(agency, unit, name="Izin Draf"))
    charter = Charter.objects.filter(status="published").order_by("pk").first()
    assert charter is not None
    return {
        "consultation": reverse("public:consultation", args=[consultation.pk]),
        "track": reverse("track:detail", kwargs={"code": delivery.tracking_code}),
        "charter": charter.get_absolute_url(),
        "poster": reverse("charters:charter_poster", args=[charter.pk]),
        "standard poster": reverse(
            "charters:standard_poster",
            kwargs={"agency_slug": service.agency.slug, "slug": service.slug},
        ),
        "draft edit": reverse("standards:version_edit", args=[draft.pk]),
        "service admin": reverse("admin:services_service_change", args=[service.pk]),
    }
