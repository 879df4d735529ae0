"""The complaint form (public, no login) and the handlers' forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Unit
from core.forms import Form
from feedback.complaints.evidence import MAX_FILES
from feedback.complaints.models import ComplaintCategory

HONEYPOT_FIELD = "website"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ComplaintForm(Form):
    category = forms.ChoiceField(
        label=_("What went wrong?"),
        choices=ComplaintCategory.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what went wrong.")},
    )
    occurred_on = forms.DateField(
        label=_("When did it happen?"),
        help_text=_("The date of the service. A complaint is taken within 30 days of it."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    location = forms.CharField(
        label=_("Where (office, counter or place)?"), required=False, max_length=200
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Do not write your name or numbers that identify you here."),
    )
    evidence = MultipleFileField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=_(
            "Up to 3 photos (JPEG, PNG, WebP) or PDF documents, 5 MB each. Photos are "
            "re-encoded without their hidden data (location, device, names)."
        ),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous: hide my identity from the agency and the public"),
        required=False,
        initial=True,
    )
    confidential = forms.BooleanField(
        label=_("Confidential: never publish my complaint, even without my name"),
        required=False,
        initial=True,
    )
    contact_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200)
    contact_email = forms.EmailField(
        label=_("Your email (optional)"),
        required=False,
        help_text=_("To hear of its progress: we first ask you to confirm the address."),
    )
    contact_phone = forms.CharField(label=_("Your phone (optional)"), required=False, max_length=40)
    # Hidden from people (visually-hidden, out of the tab order); bots fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_evidence(self) -> Any:
        files = self.cleaned_data.get("evidence") or []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Attach at most %(count)d files."), params={"count": MAX_FILES}
            )
        return files

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))

    @property
    def privacy_fields(self) -> list[forms.BoundField]:
        return [self["anonymous"], self["confidential"]]

    @property
    def contact_fields(self) -> list[forms.BoundField]:
        return [self["contact_name"], self["contact_email"], self["contact_phone"]]


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Why did the answer not solve it?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AddInfoForm(Form):
    text = forms.CharField(
        label=_("Your answer to the handlers' question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class FindingsResponseForm(Form):
    text = forms.CharField(
        label=_("Your response to the ombudsman's draft findings"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class FindForm(Form):
    code = forms.CharField(label=_("Complaint tracking code"), max_length=12)


# --- Staff ----------------------------------------------------------------------------------
class AskInfoForm(Form):
    question = forms.CharField(
        label=_("What do you need from the complainant?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RouteForm(Form):
    agency = forms.ModelChoiceField(
        label=_("The agency whose authority it is"), queryset=Agency.objects.none()
    )

    def __init__(self, *args: Any, exclude_agency_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["agency"]
        field.queryset = Agency.objects.exclude(pk=exclude_agency_id or 0).order_by("name")


class ModerateForm(Form):
    public_text = forms.CharField(
        label=_("The text the unit (and, if the complainant agreed, the public) will read"),
        help_text=_(
            "Remove names, numbers, addresses and abuse. The original is kept for the ombudsman."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ModerateReopenForm(Form):
    reopen_text = forms.CharField(
        label=_("The reason for reopening as the unit will read it"),
        help_text=_(
            "Remove names, numbers, addresses and abuse. The original is kept for the ombudsman."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ForwardForm(ModerateForm):
    unit = forms.ModelChoiceField(label=_("Forward to the unit"), queryset=Unit.objects.none())

    def __init__(self, *args: Any, agency_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["unit"]
        field.queryset = Unit.objects.filter(agency_id=agency_id or 0, is_active=True).order_by(
            "name"
        )


class AnswerForm(Form):
    answer = forms.CharField(
        label=_("The answer to the complainant"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class CloseForm(Form):
    note = forms.CharField(
        label=_("A closing note for the complainant (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
