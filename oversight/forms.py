"""Forms of the breach pages (thin: oversight/answers.py checks and writes)."""

from __future__ import annotations

import html
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from core.forms import Form
from oversight.models import BreachStatus, Maladministration

ANSWER_ACTIONS = [
    ("acknowledge", gettext_lazy("Acknowledge")),
    ("explain", gettext_lazy("Explain")),
    ("remedy", gettext_lazy("Record the remedy")),
    ("dispute", gettext_lazy("Dispute")),
]


class AnswerForm(Form):
    action = forms.ChoiceField(label=gettext_lazy("Answer"), choices=ANSWER_ACTIONS)
    text = forms.CharField(
        label=gettext_lazy("Text"), required=False, max_length=5000, widget=forms.Textarea
    )
    attachment = forms.FileField(
        label=gettext_lazy("Attachment (PDF, PNG or JPEG, at most 5 MB)"), required=False
    )


class DecideForm(Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            (BreachStatus.CONFIRMED.value, gettext_lazy("Confirm")),
            (BreachStatus.DISMISSED.value, gettext_lazy("Dismiss")),
        ],
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Maladministration category"),
        choices=[("", "—"), *Maladministration.choices],
        required=False,
    )
    text = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=5000, widget=forms.Textarea
    )


class CompensationForm(Form):
    amount = forms.IntegerField(label=gettext_lazy("Amount paid (Rp)"))
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class FastSelect(forms.Select):
    """A <select> written in Python rather than through the widget templates: the desk's
    filters list every agency (hundreds of options), which the templates render in tens
    of milliseconds."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        selected = {str(v) for v in self.format_value(value)}
        # Plain escaping and joining (format_html, or even django.utils.html.escape with its
        # lazy-string wrapper, per option costs more than the rest of the page).
        options = "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) in selected else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in self.choices
        )
        flat = flatatt(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<select name="{escape(name)}"{flat}>{options}</select>')  # noqa: S308


class FastInput(forms.Widget):
    """An <input> written in Python (see FastSelect): the desk's page renders a dozen."""

    input_type = "text"

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        shown = self.format_value(value)
        if shown is not None and shown != "":
            final["value"] = shown
        flat = flatatt(final)
        return mark_safe(f'<input type="{self.input_type}" name="{escape(name)}"{flat}>')  # noqa: S308


class FastTextInput(FastInput, forms.TextInput):
    input_type = "text"


class FastNumberInput(FastInput, forms.NumberInput):
    input_type = "number"


class FastHiddenInput(FastInput, forms.HiddenInput):
    input_type = "hidden"


# --- The review desk ---------------------------------------------------------------------

BULK_ACTIONS = [
    ("assign_me", gettext_lazy("Assign to me")),
    ("assign", gettext_lazy("Assign to a colleague")),
    ("explain", gettext_lazy("Request an explanation from the unit")),
    ("out_of_authority", gettext_lazy("Close: outside the ombudsman's authority")),
]


class DeskBulkForm(Form):
    """An action on the selected rows of the desk (oversight/desk.py checks and writes)."""

    breach = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Breaches"), coerce=int, choices=[], required=False
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), choices=BULK_ACTIONS, widget=FastSelect
    )
    assignee = forms.ChoiceField(
        label=gettext_lazy("Colleague"), choices=[], required=False, widget=FastSelect
    )
    text = forms.CharField(
        label=gettext_lazy("Message or reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    q = forms.CharField(required=False, max_length=2000, widget=FastHiddenInput)

    def __init__(self, *args: Any, reviewers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reviewers = {user.pk: user for user in reviewers}
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", "—"),
            *[(str(user.pk), user.get_full_name() or user.username) for user in reviewers],
        ]
        # Any id is a candidate: the desk itself checks that each is on it.
        self.fields["breach"].valid_value = _is_id  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", gettext_lazy("Choose the colleague."))
        return data

    def assignee_user(self) -> Any:
        value = self.cleaned_data.get("assignee")
        return self.reviewers.get(int(value)) if value else None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and 0 < int(value) < 2**63


class SavedFilterForm(Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the view"), max_length=80, widget=FastTextInput
    )
    q = forms.CharField(required=False, max_length=2000, widget=FastHiddenInput)
