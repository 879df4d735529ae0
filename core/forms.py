"""The project's form bases: every text a person types is held to core.text's rule.

Forms in this project derive from `Form` (or `ModelForm`) here, never from Django's
directly (a test walks every form class to keep it so); the admin's forms get the
same rule through `MaklumatAdminSite`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from core.text import CONTROL_CHARACTER_CODE, CONTROL_CHARACTER_MESSAGE, has_control_characters

NULL_CHARACTER_CODE = "null_characters_not_allowed"  # Django's own CharField validator


def _raw_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


class ControlCharacterMixin:
    """A field whose submitted text holds a control character gets a field error."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        form: Any = self
        if not form.is_bound or form._errors is None:
            return
        for name, field in form.fields.items():
            if field.disabled:
                continue
            raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
            if not any(has_control_characters(text) for text in _raw_strings(raw)):
                continue
            existing = form._errors.get(name)
            if existing is not None and any(
                getattr(error, "code", None) in (NULL_CHARACTER_CODE, CONTROL_CHARACTER_CODE)
                for error in existing.as_data()
            ):
                continue
            form.add_error(
                name, forms.ValidationError(CONTROL_CHARACTER_MESSAGE, code=CONTROL_CHARACTER_CODE)
            )


class Form(ControlCharacterMixin, forms.Form):
    pass


class ModelForm(ControlCharacterMixin, forms.ModelForm):
    pass


class FixedChoices(BaseChoiceIterator):
    """Choices given once, already in Django's normal form, never changed in place: every
    copy of the field and its widget shares them. A form copies its fields for each instance,
    and Django copies and normalises a plain list of choices again with each copy (twice for
    a select), which for a form built on every request (the public search) costs more than
    validating it."""

    def __init__(self, choices: Iterable[tuple[Any, Any]]) -> None:
        self._choices = tuple(normalize_choices(list(choices)))

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return iter(self._choices)

    def __len__(self) -> int:
        return len(self._choices)

    def __copy__(self) -> FixedChoices:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FixedChoices:
        return self


class PlainSelect(forms.Select):
    """A single-choice <select> written in Python rather than through Django's widget
    templates: the same markup, at a fraction of the cost for long lists (the public search's
    agency filter has one option per agency, several hundred; each option is a template
    include otherwise). Grouped choices fall back to the templates."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        if any(isinstance(label, list | tuple) for _value, label in self.choices):
            return super().render(name, value, attrs, renderer)
        selected = set(self.format_value(value))
        head = format_html(
            '<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs))
        )
        parts: list[str] = [head]
        found = False
        choices: list[tuple[Any, Any]] = list(self.choices)
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            mark = ""
            if not found and text in selected:
                found, mark = True, " selected"
            parts.append(
                f'<option value="{conditional_escape(text)}"{mark}>{conditional_escape(label)}</option>'
            )
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # noqa: S308 - every part escaped above
