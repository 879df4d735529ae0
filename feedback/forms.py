"""The SKM questionnaire as a form: the nine questions with their own answer words, the
optional profile and suggestion, and a honeypot field for bots."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form
from feedback.elements import ELEMENTS
from feedback.models import AgeBand, Education, Occupation, Sex
from feedback.services import SurveyProfile
from services.models import Service

HONEYPOT_FIELD = "website"


def _optional(label: Any, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=[("", _("Rather not say")), *choices]
    )


class SurveyForm(Form):
    age_band = _optional(_("Age"), AgeBand.choices)
    sex = _optional(_("Sex"), Sex.choices)
    education = _optional(_("Education"), Education.choices)
    occupation = _optional(_("Occupation"), Occupation.choices)
    suggestion = forms.CharField(
        label=_("Your suggestion for this unit (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # Hidden from people (visually-hidden, out of the tab order); bots fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, services: list[Service] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        questions: dict[str, forms.Field] = {}
        if services:
            questions["service"] = forms.TypedChoiceField(
                label=_("Which service did you use?"),
                required=False,
                coerce=int,
                choices=[("", _("Not one in particular")), *((s.pk, s.name) for s in services)],
            )
        for element in ELEMENTS:
            questions[element.field] = forms.TypedChoiceField(
                label=f"{element.code}. {element.question}",
                help_text=str(element.name),
                coerce=int,
                choices=[(score, words) for score, words in enumerate(element.answers, start=1)],
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose one answer to this question.")},
            )
        # The questions first, then the profile.
        self.fields = {**questions, **self.fields}

    @property
    def question_fields(self) -> list[forms.BoundField]:
        return [self[element.field] for element in ELEMENTS]

    @property
    def profile_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("age_band", "sex", "education", "occupation")]

    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))

    def scores(self) -> list[int]:
        return [self.cleaned_data[element.field] for element in ELEMENTS]

    def profile(self) -> SurveyProfile:
        return SurveyProfile(
            age_band=self.cleaned_data["age_band"],
            sex=self.cleaned_data["sex"],
            education=self.cleaned_data["education"],
            occupation=self.cleaned_data["occupation"],
        )


class SuggestionAnswerForm(Form):
    """The unit's answer to one suggestion (staff area); prefixed per suggestion."""

    answer = forms.CharField(
        label=_("Your answer to this suggestion"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FollowUpForm(Form):
    """The follow-up the unit plans after the period's survey (printed in the report)."""

    plan = forms.CharField(
        label=_("Follow-up planned"),
        help_text=_(
            "What the unit will do about the lowest elements and the suggestions, by when. "
            "Printed in the published report."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
