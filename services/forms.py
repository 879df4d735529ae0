"""Staff forms for services and standard versions (inline repeatable rows as formsets)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from agencies.models import Unit
from core.forms import Form
from services.models import (
    Channel,
    ClockStart,
    ComplaintChannelKind,
    Facility,
    ServiceCategory,
    TimeUnit,
)


class ServiceForm(Form):
    name = forms.CharField(label=_("Name of the service"), max_length=200)
    unit = forms.ModelChoiceField(label=_("Responsible unit"), queryset=Unit.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=ServiceCategory.choices)
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        max_length=300,
        required=False,
        help_text=_("Other names citizens use, separated by commas."),
    )
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class LinesField(forms.CharField):
    """A list of strings entered one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]


class VersionForm(Form):
    change_summary = forms.CharField(label=_("What changed"), max_length=300, required=False)
    processing_time_value = forms.IntegerField(
        label=_("Processing time"), min_value=1, max_value=100000, required=False
    )
    processing_time_unit = forms.ChoiceField(label=_("Unit of time"), choices=TimeUnit.choices)
    clock_start = forms.ChoiceField(label=_("The clock starts"), choices=ClockStart.choices)
    is_free = forms.BooleanField(label=_("Free of charge"), required=False)
    product = forms.CharField(
        label=_("Product"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    legal_basis = LinesField(
        label=_("Legal basis"), required=False, help_text=_("One regulation per line.")
    )
    facilities = forms.MultipleChoiceField(
        label=_("Facilities"),
        choices=Facility.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    facilities_note = forms.CharField(
        label=_("Other facilities"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    staff_competence = forms.CharField(
        label=_("Staff competence"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    internal_supervision = forms.CharField(
        label=_("Internal supervision"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    staff_count = forms.IntegerField(
        label=_("Number of staff"), min_value=1, max_value=100000, required=False
    )
    service_guarantee = forms.CharField(
        label=_("Service guarantee"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    safety_security = forms.CharField(
        label=_("Safety and security"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    performance_evaluation = forms.CharField(
        label=_("Performance evaluation"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    decree_number = forms.CharField(
        label=_("Decree number (nomor SK)"), max_length=120, required=False
    )
    decree_date = forms.DateField(
        label=_("Decree date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    effective_date = forms.DateField(
        label=_("Effective date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RequirementForm(Form):
    name = forms.CharField(label=_("Requirement"), max_length=300)
    is_mandatory = forms.BooleanField(label=_("Mandatory"), required=False, initial=True)
    where_to_get = forms.CharField(label=_("Where to get it"), max_length=300, required=False)
    copies = forms.CharField(label=_("Copies / format"), max_length=120, required=False)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)

    def has_changed(self) -> bool:
        # A blank row whose "mandatory" box was merely unticked is still a blank row.
        return any(name != "is_mandatory" for name in self.changed_data)


class StepForm(Form):
    actor = forms.CharField(label=_("Who"), max_length=160)
    description = forms.CharField(label=_("What happens"), widget=forms.Textarea(attrs={"rows": 2}))
    duration_value = forms.IntegerField(label=_("Duration"), min_value=0, required=False)
    duration_unit = forms.ChoiceField(
        label=_("Unit of time"), choices=TimeUnit.choices, initial=TimeUnit.MINUTES
    )

    def has_changed(self) -> bool:
        return any(name != "duration_unit" for name in self.changed_data)


class CostItemForm(Form):
    name = forms.CharField(label=_("Item"), max_length=200)
    amount = forms.IntegerField(label=_("Amount (Rp)"), min_value=0, max_value=10**13)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300, required=False)


class ComplaintChannelForm(Form):
    kind = forms.ChoiceField(label=_("Channel"), choices=ComplaintChannelKind.choices)
    value = forms.CharField(label=_("Contact"), max_length=300)

    def has_changed(self) -> bool:
        # A select always posts a value: a row is filled only when its contact is.
        return any(name != "kind" for name in self.changed_data)


def _formset(form: type[forms.Form], extra: int) -> Any:
    return formset_factory(form, extra=extra, can_delete=True, max_num=200, validate_max=True)


FORMSETS: dict[str, tuple[Any, str]] = {
    "requirements": (_formset(RequirementForm, 2), "req"),
    "steps": (_formset(StepForm, 2), "step"),
    "cost_items": (_formset(CostItemForm, 1), "cost"),
    "complaint_channels": (_formset(ComplaintChannelForm, 1), "chan"),
}


def build_formsets(
    data: Any = None, initial: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    initial = initial or {}
    return {
        relation: formset_class(data, prefix=prefix, initial=initial.get(relation) or None)
        for relation, (formset_class, prefix) in FORMSETS.items()
    }


def formset_rows(formset: Any) -> list[dict[str, Any]]:
    """The filled, not-deleted rows of a valid formset, in order."""
    rows = []
    for form in formset.forms:
        # Untouched extra rows clean to {}; untouched existing rows keep their data.
        if not form.cleaned_data or form.cleaned_data.get("DELETE"):
            continue
        row = {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        rows.append(row)
    return rows


class PublishForm(Form):
    acknowledge_incomplete = forms.BooleanField(
        label=_("I know this standard is incomplete and publish it anyway"), required=False
    )
    decree_number = forms.CharField(
        label=_("Decree number (nomor SK)"), max_length=120, required=False
    )
    decree_date = forms.DateField(
        label=_("Decree date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ConsultationForm(Form):
    closes_on = forms.DateField(
        label=_("Consultation closes on"), widget=forms.DateInput(attrs={"type": "date"})
    )
