"""The project's form bases: every text a person types is held to core.text's rule.

Forms in this project derive from `Form` (or `ModelForm`) here, never from Django's
directly (a test walks every form class to keep it so); the admin's forms get the
same rule through `MaklumatAdminSite`.
"""

from __future__ import annotations

from typing import Any

from django import forms

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
