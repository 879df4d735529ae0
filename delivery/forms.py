"""Staff forms: record a delivery, change its status, import a CSV, filter the list.

Times are typed as the unit's local time (WIB, WITA or WIT, from its work calendar); an
ISO 8601 value with an offset is taken as written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.calendars import calendar_for_unit
from agencies.models import Agency
from core.forms import Form
from delivery.bulk import localize, parse_moment
from delivery.importing import max_bytes
from delivery.models import DeliveryStatus, Outcome, ServiceDelivery
from services.models import Channel, Service


def local_now(utc_offset_hours: int) -> dt.datetime:
    """Now as a naive local time in a unit's time zone (for initial values)."""
    from django.utils import timezone

    moment = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=utc_offset_hours)))
    return moment.replace(tzinfo=None, second=0, microsecond=0)


class LocalDateTimeField(forms.Field):
    """A date and time without time-zone conversion: naive values are localised later,
    in the time zone of the delivery's unit."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    default_error_messages = {"invalid": _("Enter a date and time.")}

    def to_python(self, value: Any) -> dt.datetime | None:
        try:
            return parse_moment(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class _LocalTimes(Form):
    """Puts the naive times of a form in the unit's time zone."""

    def __init__(self, *args: Any, utc_offset_hours: int = 7, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.utc_offset_hours = utc_offset_hours

    def localise(self, cleaned: dict[str, Any], offset: int) -> None:
        for name, field in self.fields.items():
            if isinstance(field, LocalDateTimeField) and cleaned.get(name) is not None:
                cleaned[name] = localize(cleaned[name], offset)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.localise(cleaned, self.utc_offset_hours)
        return cleaned


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.agency.short_name or obj.agency.name}"


class DeliveryForm(_LocalTimes):
    service = ServiceChoiceField(label=_("Service"), queryset=Service.objects.none())
    reference = forms.CharField(
        label=_("Agency reference"),
        max_length=80,
        help_text=_("Your own registration number. Recording the same number again updates it."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial="counter")
    submitted_at = LocalDateTimeField(
        label=_("Submitted at"), help_text=_("Local time of the unit (WIB, WITA or WIT).")
    )
    file_complete_at = LocalDateTimeField(
        label=_("File complete at"),
        required=False,
        help_text=_("When the file was complete and fees paid; empty if not yet."),
    )
    completed_at = LocalDateTimeField(
        label=_("Completed at"), required=False, help_text=_("Empty while in process.")
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Outcome.choices], required=False
    )
    refusal_reason = forms.CharField(label=_("Reason for refusal"), max_length=300, required=False)
    fee_charged = forms.IntegerField(
        label=_("Fee charged (Rp)"), min_value=0, initial=0, required=False
    )

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = services

    def clean(self) -> dict[str, Any]:
        cleaned = forms.Form.clean(self) or {}
        service = cleaned.get("service")
        if service is not None:
            self.localise(cleaned, calendar_for_unit(service.unit).utc_offset_hours)
        if cleaned.get("fee_charged") is None:
            cleaned["fee_charged"] = 0
        return cleaned


class CompleteForm(_LocalTimes):
    completed_at = LocalDateTimeField(label=_("Completed at"))
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Outcome.GRANTED, Outcome.GRANTED.label),
            (Outcome.REFUSED, Outcome.REFUSED.label),
        ],
        initial=Outcome.GRANTED,
    )
    refusal_reason = forms.CharField(label=_("Reason for refusal"), max_length=300, required=False)
    fee_charged = forms.IntegerField(
        label=_("Fee charged (Rp)"),
        min_value=0,
        required=False,
        help_text=_("Empty: keep the fee already recorded."),
    )


class FileCompleteForm(_LocalTimes):
    at = LocalDateTimeField(label=_("File complete at"))


class PauseForm(_LocalTimes):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("E.g. waiting for the citizen to bring a missing document."),
    )
    at = LocalDateTimeField(label=_("Paused at"))


class ResumeForm(_LocalTimes):
    at = LocalDateTimeField(label=_("Resumed at"))


class WithdrawForm(_LocalTimes):
    at = LocalDateTimeField(label=_("Withdrawn at"))


class ExtendForm(_LocalTimes):
    new_due_date = forms.DateField(
        label=_("New due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(
        label=_("Reason for the extension"),
        max_length=300,
        help_text=_("Shown publicly with the new due date."),
    )


class ImportForm(Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agency"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = agencies
        if len(agencies) == 1:
            field.initial = agencies[0]
        self.fields["file"].help_text = _(
            "CSV saved as UTF-8, or an Excel workbook (.xlsx), at most %(max)s MB."
        ) % {"max": f"{max_bytes() / (1024 * 1024):g}"}


class DeliveryFilterForm(Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *DeliveryStatus.choices], required=False
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False, empty_label=_("All")
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Reference or tracking code"), required=False, max_length=80)

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = services


STATUS_FORMS: dict[str, type[_LocalTimes]] = {
    "complete": CompleteForm,
    "file-complete": FileCompleteForm,
    "pause": PauseForm,
    "resume": ResumeForm,
    "withdraw": WithdrawForm,
    "extend": ExtendForm,
}


def status_forms_for(
    delivery: ServiceDelivery, *, can_extend: bool, bound: tuple[str, _LocalTimes] | None = None
) -> dict[str, _LocalTimes]:
    """The status changes open to a delivery in its state, with sensible initial values."""
    offset = delivery.calendar.utc_offset_hours
    now = local_now(offset)
    status = delivery.status
    names: list[str] = []
    if status == DeliveryStatus.WAITING:
        names = ["file-complete", "complete", "withdraw"]
    elif status == DeliveryStatus.OPEN:
        names = ["complete", "pause", "withdraw"]
    elif status == DeliveryStatus.PAUSED:
        names = ["resume", "complete", "withdraw"]
    if (
        can_extend
        and status in (DeliveryStatus.OPEN, DeliveryStatus.PAUSED)
        and delivery.extended_due_date is None
        and delivery.agency.allows_extension
    ):
        names.append("extend")
    forms_by_name: dict[str, _LocalTimes] = {}
    for name in names:
        if bound is not None and bound[0] == name:
            forms_by_name[name] = bound[1]
            continue
        initial: dict[str, Any] = {"at": now, "completed_at": now}
        if name == "complete":
            initial["fee_charged"] = delivery.fee_charged
        forms_by_name[name] = STATUS_FORMS[name](
            initial=initial, utc_offset_hours=offset, prefix=name
        )
    return forms_by_name
