"""Page templates hold no inline code: the strict Content-Security-Policy would refuse it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.core.csp_checks import inline_code

ROOT = Path(settings.BASE_DIR)


def _page_templates() -> list[Path]:
    """Every HTML template of ours that a browser may render: the project's and each app's.
    Email bodies are read by mail clients, not under our policy."""
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    found = [
        path
        for folder in folders
        if ".venv" not in folder.parts
        for path in folder.rglob("*.html")
        if "email" not in path.relative_to(folder).parts
    ]
    return sorted(found)


def test_there_are_page_templates_to_scan():
    names = {p.relative_to(ROOT).as_posix() for p in _page_templates()}
    assert {"templates/base.html", "templates/api/redoc.html"} <= names
    assert not any("/email/" in name for name in names)


@pytest.mark.parametrize("path", _page_templates(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_template_has_no_inline_code(path):
    assert inline_code(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        "<script type='text/javascript'>x()</script>",
        "<SCRIPT>x()</SCRIPT>",
        "<style>body { color: red }</style>",
        '<style nonce="{{ request.csp_nonce }}">p {}</style>',
        '<p style="color: red">x</p>',
        '<p class="a" {% if x %}style="color: red"{% endif %}>x</p>',
        '<button onclick="go()">x</button>',
        '<body\n  onload="go()">',
        '<a href="javascript:go()">x</a>',
        '<img src="x.png" onerror=go()>',
    ],
)
def test_the_scan_finds_inline_code(snippet):
    assert inline_code(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'js/formset.js' %}\" defer></script>",
        '<script nonce="{{ request.csp_nonce }}">init()</script>',
        '<script type="application/ld+json">{"@type": "Thing"}</script>',
        '<script type="application/json" id="data">{}</script>',
        '<p data-style="x" class="onclick">style="not an attribute" onclick=</p>',
        '<input name="stylesheet" value="on">',
        '<a href="/online/" title="javascript is fine as a word">x</a>',
    ],
)
def test_the_scan_leaves_allowed_markup_alone(snippet):
    assert inline_code(snippet) == []
