"""Staff forms for charters: thin, the rules live in charter/services.py and the model."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from charter.models import Charter
from core.forms import Form, ModelForm
from services.models import Service

FORM_FIELDS = [
    "pledge",
    "services",
    "signatory_name",
    "signatory_title",
    "signed_on",
    "decree_number",
    "compensation_per_day",
    "compensation_cap",
    "sanction_statement",
]


def _unit_label(unit: Unit) -> str:
    return f"{unit.agency.short_name or unit.agency.name} · {unit.name}"


class UnitChoiceForm(Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = units.select_related("agency").order_by("agency__name", "name")
        field.label_from_instance = _unit_label  # type: ignore[method-assign,assignment]


class CharterForm(ModelForm):
    """The content of a draft charter; the services offered are the unit's agency's own."""

    class Meta:
        model = Charter
        fields = FORM_FIELDS
        widgets = {
            "signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "services": forms.CheckboxSelectMultiple,
            "pledge": forms.Textarea(attrs={"rows": 5}),
            "sanction_statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["services"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Service.objects.filter(agency_id=unit.agency_id).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("compensation_cap") and not data.get("compensation_per_day"):
            self.add_error(
                "compensation_cap",
                _("A cap needs an amount per day of delay."),
            )
        return data

    def _post_clean(self) -> None:
        # The service functions validate and save; a ModelForm's own instance
        # validation would run the immutability and constraint checks twice.
        pass


class WithdrawForm(Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for the withdrawal."))
        return reason
