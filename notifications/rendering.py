"""Helpers for the renderers of emails (the outbox's own, and those apps register)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

from notifications.registry import Email


def render_plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text part or subject: rendered without HTML escaping ("&", not "&amp;")."""
    template: Any = get_template(name)
    return str(template.template.render(Context(context, autoescape=False)))


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# Values that `reverse` puts into a URL as they are: no character of them is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9._~:-]+\Z")
# One value of each type that a route's converter must take as it is (every character of
# _PLAIN for text): if `reverse` gives it back inside the URL, any such value goes there.
_SAMPLES: dict[type, int | str] = {int: 9081726354, str: "Zq9.x-_~:Zq9"}
_URL_PARTS: dict[tuple[Any, ...], tuple[str, str] | None] = {}


def reverse_one(viewname: str, kwarg: str, value: int | str) -> str:
    """`reverse(viewname, kwargs={kwarg: value})`, at the cost of a string join for the
    values that `reverse` would insert unchanged (a non-negative int, a signed token):
    the URL around the value is reversed once per route (and URL configuration, script
    prefix and language), with a sample value. Anything else (other characters, a route whose converter changes the
    sample) is reversed as usual. For routes whose converter takes any such value (int,
    str, path)."""
    text = str(value)
    kind = type(value)
    if kind not in _SAMPLES or not _PLAIN.match(text) or text.startswith("-"):
        return reverse(viewname, kwargs={kwarg: value})
    # What else `reverse` depends on: the URL configuration, the script prefix, and the
    # active language (i18n_patterns' prefix).
    key = (
        viewname,
        kwarg,
        kind,
        settings.ROOT_URLCONF,
        get_urlconf(),
        get_script_prefix(),
        get_language(),
    )
    if key not in _URL_PARTS:
        sample = _SAMPLES[kind]
        try:
            pieces = reverse(viewname, kwargs={kwarg: sample}).split(str(sample))
        except NoReverseMatch:
            pieces = []
        _URL_PARTS[key] = (pieces[0], pieces[1]) if len(pieces) == 2 else None
    parts = _URL_PARTS[key]
    if parts is None:
        return reverse(viewname, kwargs={kwarg: value})
    return f"{parts[0]}{text}{parts[1]}"


def render_email(name: str, context: dict[str, Any]) -> Email:
    """`<name>_subject.txt` (on one line), `<name>.txt` and `<name>.html`, in the active
    language."""
    return Email(
        subject=" ".join(render_plain(f"{name}_subject.txt", context).split()),
        text=render_plain(f"{name}.txt", context),
        html=render_to_string(f"{name}.html", context),
    )
