"""Staff forms for life events: thin, the rules live in lifeevents/services.py and the model."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.forms import Form
from lifeevents.models import EventKind, LifeEvent, LifeEventStep
from services.models import Service


class LifeEventForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Address (slug)"),
        max_length=100,
        help_text=_("Lowercase letters, digits and hyphens, e.g. kelahiran-anak."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000, widget=forms.Textarea({"rows": 4})
    )

    @classmethod
    def for_event(cls, event: LifeEvent, data: Any = None) -> LifeEventForm:
        initial = {name: getattr(event, name) for name in ("kind", "title", "slug", "description")}
        return cls(data, initial=initial)


def _service_label(service: Service) -> str:
    return f"{service.agency.short_name or service.agency.name} · {service.name}"


def _step_label(step: LifeEventStep) -> str:
    return f"{step.order}. {step.service.name}"


class StepForm(Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none())
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        help_text=_(
            "What this step gives the citizen for the next ones, e.g. the birth certificate."
        ),
    )
    depends_on = forms.ModelMultipleChoiceField(
        label=_("Needs the result of"),
        queryset=LifeEventStep.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        services: QuerySet[Service],
        earlier: QuerySet[LifeEventStep],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        assert isinstance(service, forms.ModelChoiceField)
        service.queryset = services
        service.label_from_instance = _service_label  # type: ignore[method-assign,assignment]
        needs = self.fields["depends_on"]
        assert isinstance(needs, forms.ModelMultipleChoiceField)
        needs.queryset = earlier
        needs.label_from_instance = _step_label  # type: ignore[method-assign,assignment]
        if not earlier.exists():
            del self.fields["depends_on"]
