"""Helpers for the renderers of emails (the outbox's own, and those apps register)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string

from notifications.registry import Email


def render_plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text part or subject: rendered without HTML escaping ("&", not "&amp;")."""
    template: Any = get_template(name)
    return str(template.template.render(Context(context, autoescape=False)))


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def render_email(name: str, context: dict[str, Any]) -> Email:
    """`<name>_subject.txt` (on one line), `<name>.txt` and `<name>.html`, in the active
    language."""
    return Email(
        subject=" ".join(render_plain(f"{name}_subject.txt", context).split()),
        text=render_plain(f"{name}.txt", context),
        html=render_to_string(f"{name}.html", context),
    )
