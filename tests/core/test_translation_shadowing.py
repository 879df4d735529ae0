"""The project's Indonesian catalogue must not reword Django's own validation messages.

Our `locale/id/LC_MESSAGES/django.po` is searched before Django's catalogues, so an entry
whose msgid happens to equal one of Django's ("Enter a whole number.", "This field is
required.") silently replaces Django's wording on every form of the site. Forms must speak
with one voice, and tests that read Django's wording break: this test names the culprit.
"""

from __future__ import annotations

import gettext
import inspect
from pathlib import Path

import django
import django.core.validators as validators
from django import forms
from django.utils import translation

# Deliberate, site-wide rewordings (plainer Indonesian for citizens' forms), kept on purpose.
CHOSEN = {
    "This field is required.": "Bidang ini harus diisi.",
    "No file was submitted.": "Pilih berkas terlebih dahulu.",
    "The submitted file is empty.": "Berkas kosong.",
}


def _django_messages() -> set[str]:
    """Every error message of Django's form fields and validators, in English (msgids)."""
    lazy: list[object] = []
    for _name, field in inspect.getmembers(forms, inspect.isclass):
        if issubclass(field, forms.Field):
            for cls in field.__mro__:
                lazy.extend(getattr(cls, "default_error_messages", {}).values())
    # The file input's own words ("Currently", "Change", "Clear"), shown beside a saved file.
    widget = forms.ClearableFileInput
    lazy.extend([widget.clear_checkbox_label, widget.initial_text, widget.input_text])
    for _name, validator in inspect.getmembers(validators, inspect.isclass):
        message = getattr(validator, "message", None)
        if message is not None:
            lazy.append(message)
    with translation.override(None):  # no language: a lazy message gives its msgid
        messages = {str(message) for message in lazy}
    return {m for m in messages if m and "%" not in m and "{" not in m}


def test_django_validation_messages_keep_djangos_indonesian_wording() -> None:
    catalogue = gettext.translation(
        "django", localedir=str(Path(django.__file__).parent / "conf" / "locale"), languages=["id"]
    )
    messages = _django_messages()
    assert "Enter a whole number." in messages and "This field is required." in messages
    with translation.override("id"):
        reworded = {
            message: (translation.gettext(message), catalogue.gettext(message))
            for message in sorted(messages)
            if translation.gettext(message) != CHOSEN.get(message, catalogue.gettext(message))
        }
    assert reworded == {}, f"locale/id/LC_MESSAGES/django.po rewords Django's messages: {reworded}"
