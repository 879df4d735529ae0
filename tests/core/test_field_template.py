"""The shared form-field template: what Django's aria-describedby points at exists, once."""

from __future__ import annotations

import re
from collections import Counter

from django import forms
from django.template.loader import render_to_string


class ExampleForm(forms.Form):
    email = forms.EmailField(help_text="Never shown to anyone.", min_length=40)
    note = forms.CharField(required=False)


def _check(html: str) -> list[str]:
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert all(n == 1 for n in ids.values()), ids  # no duplicate ids
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    tokens = [t for value in described for t in value.split()]
    missing = [t for t in tokens if t not in ids]
    assert not missing, (missing, html)
    return tokens


def test_help_text_is_what_the_input_is_described_by() -> None:
    html = render_to_string("_field.html", {"field": ExampleForm()["email"]})
    assert _check(html) == ["id_email_helptext"]
    assert "Never shown to anyone." in html


def test_errors_and_help_are_both_reachable_and_ids_stay_unique() -> None:
    form = ExampleForm(data={"email": "not-an-email"})  # two errors: format and length
    assert len(form.errors["email"]) == 2
    html = render_to_string("_field.html", {"field": form["email"]})
    assert set(_check(html)) == {"id_email_helptext", "id_email_error"}
    assert 'aria-invalid="true"' in html
    assert html.count('class="field-error"') == 2


def test_a_field_without_help_or_errors_is_described_by_nothing() -> None:
    html = render_to_string("_field.html", {"field": ExampleForm()["note"]})
    assert _check(html) == []
