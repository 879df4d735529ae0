"""Forms of the notification settings pages (thin: the services check and write)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from core.forms import Form
from notifications import registry
from notifications.models import RecipientMode


class RecipientPreferenceForm(Form):
    mode = forms.ChoiceField(
        label=_("How to receive new breaches"),
        choices=RecipientMode.choices,
        widget=forms.RadioSelect,
    )
    kinds = forms.MultipleChoiceField(
        label=_("Kinds of breach to receive by email"),
        # The kinds the apps registered (oversight: the kinds of breach), read at each use.
        choices=registry.kind_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of breach.")},
    )


class HttpURLField(forms.URLField):
    """An http(s) address only (the default also accepts ftp)."""

    default_validators = [URLValidator(schemes=["http", "https"])]


class WebhookEndpointForm(Form):
    url = HttpURLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Your system's address that receives a signed JSON POST for each breach."),
    )
    units = forms.TypedMultipleChoiceField(
        label=_("Only breaches of these units"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every unit of the agency."),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = [(unit.pk, unit.name) for unit in units]  # type: ignore[attr-defined]


class WebhookEndpointEditForm(WebhookEndpointForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class UnitDigestForm(Form):
    """One checkbox per active unit of the agency: daily digest or one email per breach."""

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        for unit in units:
            self.fields[f"unit_{unit.pk}"] = forms.BooleanField(label=unit.name, required=False)

    def digest_unit_ids(self) -> list[int]:
        return [unit.pk for unit in self.units if self.cleaned_data.get(f"unit_{unit.pk}")]


class InboxGroupForm(Form):
    """One group of the inbox (an event and a unit; no unit: notices about no unit)."""

    event = forms.CharField(max_length=40)
    unit = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
