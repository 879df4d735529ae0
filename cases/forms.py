"""The case pages' forms: thin; every rule is in cases/services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import DEFAULT_ACTION_DAYS
from cases.services import ACTIONS_MAX, DAYS_MAX, TEXT_MAX
from core.forms import Form
from oversight.models import BreachKind, Maladministration


def _text(label: Any, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _days(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=1, max_value=DAYS_MAX)


class StepForm(Form):
    """A step of the flow with an optional text and number of days."""

    action = forms.CharField(widget=forms.HiddenInput, max_length=40)
    text = _text(_("Text"))
    days = _days(_("Days (empty: the default)"))


class DraftForm(Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=40, initial="issue_draft")
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("found", _("Maladministration found")), ("not_found", _("Not found"))],
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories of maladministration"),
        choices=Maladministration.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = _text(_("Summary (published, without the citizen's identity)"), required=True)
    actions = _text(_("Corrective actions"))
    days = _days(_("Working days for the agency to respond (default 14)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Formatted per request, in the request's language (not once, at import).
        self.fields["actions"].label = gettext(
            "Corrective actions, one a line; end a line with “| N” for N working days "
            "(default %(days)d)"
        ) % {"days": DEFAULT_ACTION_DAYS}

    def clean_actions(self) -> list[tuple[str, int | None]]:
        rows: list[tuple[str, int | None]] = []
        for line in (self.cleaned_data.get("actions") or "").splitlines():
            text, _sep, days = line.partition("|")
            if not text.strip():
                continue
            number: int | None = None
            if days.strip():
                try:
                    number = int(days.strip())
                except ValueError:
                    raise forms.ValidationError(
                        _("After “|”, write a number of working days.")
                    ) from None
            rows.append((text.strip(), number))
        if len(rows) > ACTIONS_MAX:
            raise forms.ValidationError(
                _("At most %(max)d corrective actions.") % {"max": ACTIONS_MAX}
            )
        return rows


class FinaliseForm(Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=40, initial="finalise")
    summary = _text(_("Final summary (empty: as drafted)"))


class AnswerForm(Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=40, initial="answer_explanation")
    request_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    text = _text(_("Your explanation"), required=True)
    attachment = forms.FileField(label=_("Attachment (PDF, PNG or JPEG, 5 MB)"), required=False)


class RespondForm(Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=40, initial="respond_draft")
    text = _text(_("Your response to the draft findings"), required=True)


class ReportForm(Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=40, initial="report_action")
    action_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    text = _text(_("Progress note"))
    evidence = forms.FileField(label=_("Evidence (PDF, PNG or JPEG, 5 MB)"), required=False)
    done = forms.BooleanField(label=_("The action is done"), required=False)


class ActionDecisionForm(Form):
    action = forms.ChoiceField(
        widget=forms.HiddenInput,
        choices=[
            ("accept_action", "accept_action"),
            ("reject_action", "reject_action"),
            ("raise_recommendation", "raise_recommendation"),
        ],
    )
    action_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    text = _text(_("Reason or recommendation"))
    days = _days(_("Working days (recommendation; default 60)"))


class NoteForm(Form):
    text = _text(_("Internal note (never shown to the agency)"), required=True)


class OpenForm(Form):
    breach = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = self.data.getlist("breach") if hasattr(self.data, "getlist") else []
        # Any positive id is a choice; the service checks that each exists.
        field = self.fields["breach"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(v, v) for v in data if str(v).isdigit()][:500]


class GroupForm(Form):
    unit = forms.IntegerField(label=_("Unit (number)"), min_value=1, max_value=2**63 - 1)
    kind = forms.ChoiceField(label=_("Kind"), choices=BreachKind.choices)
    period_start = forms.DateField(
        label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"})
    )


FORMS: dict[str, type[Form]] = {
    "issue_draft": DraftForm,
    "finalise": FinaliseForm,
    "answer_explanation": AnswerForm,
    "respond_draft": RespondForm,
    "report_action": ReportForm,
    "accept_action": ActionDecisionForm,
    "reject_action": ActionDecisionForm,
    "raise_recommendation": ActionDecisionForm,
}


def form_for(action: str) -> type[Form]:
    return FORMS.get(action, StepForm)
