"""PlainSelect writes the markup Django's Select writes through its templates."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms

from core.forms import PlainSelect

CHOICES = [
    ("", "Semua instansi"),
    ("dinas-a", "Dinas A"),
    ("a&b", 'Dinas <b>"B"</b> & co'),
    (3, "Tiga"),
    ("dinas-a", "Dinas A again"),
]


def _parsed(html: str) -> tuple[set[tuple[str, str]], list[tuple[str, bool, str]]]:
    head = re.match(r"\s*<select([^>]*)>", html)
    assert head is not None
    # Attributes in any order (they mean the same).
    attributes = set(re.findall(r'([\w-]+)(?:="([^"]*)")?', head.group(1)))
    options = re.findall(
        r'<option value="([^"]*)"( selected)?>([^<]*(?:<[^/][^<]*)*)</option>', html
    )
    return attributes, [(value, bool(mark), label) for value, mark, label in options]


@pytest.mark.parametrize("value", [None, "", "dinas-a", "a&b", "3", 3, "unknown"])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_agency"},
        {"id": "x", "aria-invalid": "true", "required": True, "disabled": False},
    ],
)
def test_the_same_options_selection_escaping_and_attributes_as_djangos_select(
    value: Any, attrs: dict[str, Any] | None
) -> None:
    ours = PlainSelect(choices=CHOICES).render("agency", value, attrs)
    django = forms.Select(choices=CHOICES).render("agency", value, attrs)
    assert _parsed(ours) == _parsed(django)
    assert "<b>" not in ours and "&lt;b&gt;" in ours
    assert ours.count(" selected") == django.count(" selected") <= 1


def test_grouped_choices_are_left_to_djangos_templates() -> None:
    grouped = [("Kota", [("a", "A"), ("b", "B")])]
    assert PlainSelect(choices=grouped).render("x", "b") == forms.Select(choices=grouped).render(
        "x", "b"
    )
