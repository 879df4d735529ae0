"""`{% once %}` fragments and the language switcher's address (core.templatetags.maklumat)."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, translate_url
from django.utils import translation

from core.templatetags import maklumat

TEMPLATE = (
    '{% load i18n maklumat %}{% once "t" %}{% translate "Home" %} {{ n }}{% endonce %}|{{ n }}'
)


@pytest.fixture(autouse=True)
def _forget() -> Any:
    maklumat._ONCE.clear()
    yield
    maklumat._ONCE.clear()


def test_a_fragment_is_rendered_once_per_language():
    template = Template(TEMPLATE)
    with translation.override("id"):
        assert template.render(Context({"n": 1})) == "Beranda 1|1"
        # Kept: what it rendered first (which is why nothing inside may read the context).
        assert template.render(Context({"n": 2})) == "Beranda 1|2"
    with translation.override("en"):
        assert template.render(Context({"n": 3})) == "Home 3|3"
        assert template.render(Context({"n": 4})) == "Home 3|4"
    with translation.override("id"):
        assert template.render(Context({"n": 5})) == "Beranda 1|5"


def test_a_settings_change_forgets_the_fragments(settings):
    template = Template(TEMPLATE)
    with translation.override("en"):
        assert template.render(Context({"n": 1})) == "Home 1|1"
        settings.SITE_URL = "http://example.org"
        assert template.render(Context({"n": 2})) == "Home 2|2"


@pytest.mark.parametrize("source", ["{% once %}{% endonce %}", "{% once name %}{% endonce %}"])
def test_a_fragment_needs_one_quoted_name(source):
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        Template("{% load maklumat %}" + source)


@pytest.mark.parametrize(
    "path",
    [
        "/search/?q=KTP&utm_source=x",
        "/search/",
        "/search/?q=ka%C5%9Fk%20%26%20b&page=2",
        "/en/search/?q=KTP",
        "/robots.txt",
        "/agencies/dinas-a/",
        "/en/agencies/dinas-a/services/izin-apotek/",
    ],
)
@pytest.mark.parametrize("language", ["id", "en"])
def test_the_switchers_address_is_djangos_translate_url(path, language):
    request = RequestFactory().get(path)
    current = "en" if request.path.startswith("/en/") else "id"
    with translation.override(current):
        request.resolver_match = resolve(request.path_info)
        expected = translate_url(request.get_full_path(), language)
        assert maklumat.translated_path({"request": request}, language) == expected
        # Unresolved (a 404 page): Django's own function.
        request.resolver_match = None
        assert maklumat.translated_path({"request": request}, language) == expected
