"""Forms of the reviewers' compliance pages (thin: compliance.services checks and writes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agencies.models import Agency
from compliance.models import AssessmentMethod, IndicatorKind
from core.forms import Form


class CreateForm(Form):
    method = forms.ModelChoiceField(
        label=gettext_lazy("Method"), queryset=AssessmentMethod.objects.all()
    )
    year = forms.IntegerField(label=gettext_lazy("Year assessed"), min_value=2021, max_value=2100)
    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"),
        queryset=Agency.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Every agency"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the publish form on the same page has a "method" too.
        kwargs.setdefault("auto_id", "create_%s")
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class PublishForm(Form):
    method = forms.ModelChoiceField(
        label=gettext_lazy("Method"), queryset=AssessmentMethod.objects.all()
    )
    period = forms.RegexField(label=gettext_lazy("Period"), regex=r"^\d{4}$", max_length=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "publish_%s")
        super().__init__(*args, **kwargs)


class EntryForm(Form):
    """One checklist (0-3) or count indicator, with its note and an optional file."""

    value = forms.TypedChoiceField(
        label=gettext_lazy("Score"),
        choices=[("", "—"), ("0", "0"), ("1", "1"), ("2", "2"), ("3", "3")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    positive = forms.IntegerField(
        label=gettext_lazy("Answered well"), min_value=0, max_value=10000, required=False
    )
    asked = forms.IntegerField(
        label=gettext_lazy("Interviewed"), min_value=0, max_value=10000, required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea
    )
    file = forms.FileField(
        label=gettext_lazy("Evidence (PDF, PNG or JPEG, at most 5 MB)"), required=False
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind == IndicatorKind.CHECKLIST:
            del self.fields["positive"]
            del self.fields["asked"]
        else:
            del self.fields["value"]
