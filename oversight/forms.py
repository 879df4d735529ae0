"""Forms of the breach pages (thin: oversight/answers.py checks and writes)."""

from __future__ import annotations

from django import forms
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
