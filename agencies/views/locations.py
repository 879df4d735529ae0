"""Staff pages of locations: an agency's admins manage the locations their agency runs (for a
district or city, its public service malls) and put their own units' counters at locations.
Every decision is the policy's (agencies.policy); every write goes through agencies.locations
with the actor, into the history."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.locations import (
    can_remove_counter,
    counter_attach,
    counter_remove,
    location_create,
    location_update,
)
from agencies.models import Agency, Counter, Location, LocationKind, Unit
from agencies.policy import Action, get_permitted, refuse
from agencies.views.staff import (
    WeeklyHoursMixin,
    facilities_field,
    facilities_note_field,
    hours_initial,
)
from core.errors import ApplicationError, PermissionDeniedError
from core.forms import Form

LOCATION_FORM_FIELDS = (
    "name",
    "kind",
    "address",
    "province",
    "city",
    "region_code",
    "phone",
    "latitude",
    "longitude",
    "facilities",
    "facilities_note",
    "is_active",
)


class LocationCreateForm(Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=LocationKind.choices)


class LocationForm(WeeklyHoursMixin, LocationCreateForm):
    address = forms.CharField(
        label=gettext_lazy("Address"), max_length=500, required=False, widget=forms.Textarea
    )
    province = forms.CharField(label=gettext_lazy("Province"), max_length=120, required=False)
    city = forms.CharField(label=gettext_lazy("Regency or city"), max_length=120, required=False)
    region_code = forms.RegexField(
        label=gettext_lazy("Region code"),
        regex=r"^\d{2}(\.\d{2}){0,3}$",
        max_length=13,
        required=False,
        help_text=gettext_lazy("Kemendagri region code, e.g. 32.73 for Kota Bandung."),
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    latitude = forms.DecimalField(
        label=gettext_lazy("Latitude"),
        required=False,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        max_digits=9,
        decimal_places=6,
        localize=False,
        help_text=gettext_lazy("Decimal degrees, e.g. -6.917500 (south is negative)."),
    )
    longitude = forms.DecimalField(
        label=gettext_lazy("Longitude"),
        required=False,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        max_digits=9,
        decimal_places=6,
        localize=False,
        help_text=gettext_lazy("Decimal degrees, e.g. 107.619100."),
    )
    facilities = facilities_field()
    facilities_note = facilities_note_field()
    is_active = forms.BooleanField(label=gettext_lazy("Open"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_hours_fields()

    def clean_address(self) -> str:
        return str(self.cleaned_data["address"]).replace("\r\n", "\n").strip()

    def clean_facilities_note(self) -> str:
        return str(self.cleaned_data["facilities_note"]).replace("\r\n", "\n").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.clean_hours(data)
        lat, lon = data.get("latitude"), data.get("longitude")
        if (lat is None) != (lon is None) and not (
            self.has_error("latitude") or self.has_error("longitude")
        ):
            missing = "longitude" if lon is None else "latitude"
            self.add_error(missing, _("Give both the latitude and the longitude, or neither."))
        return data


def _add_error(form: Form, exc: ApplicationError) -> None:
    field = exc.field
    if field == "weekly_hours" and exc.extra and "weekday" in exc.extra:
        field = f"closes_{exc.extra['weekday']}"
    form.add_error(field if field in form.fields else None, exc.message)


# --- The agency's locations ------------------------------------------------------------------


def _render_locations(
    request: HttpRequest, agency: Agency, form: LocationCreateForm, status: int = 200
) -> HttpResponse:
    hosted = Location.objects.filter(host_agency=agency).order_by("name")
    return render(
        request,
        "agencies/locations.html",
        {"agency": agency, "locations": hosted, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def locations(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    if request.method != "POST":
        return _render_locations(request, agency, LocationCreateForm())
    form = LocationCreateForm(request.POST)
    if form.is_valid():
        try:
            location = location_create(
                host_agency=agency,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("The location %(name)s is created.") % {"name": location})
            return redirect(
                "agency_admin:location", agency_slug=agency.slug, location_slug=location.slug
            )
    return _render_locations(request, agency, form, status=400)


def _location_initial(location: Location) -> dict[str, Any]:
    initial = {name: getattr(location, name) for name in LOCATION_FORM_FIELDS}
    initial["facilities"] = list(location.facilities or [])
    return initial | hours_initial(location.weekly_hours)


def _render_location(
    request: HttpRequest, location: Location, form: LocationForm, status: int = 200
) -> HttpResponse:
    counters = location.counters.select_related("unit__agency").order_by(
        "unit__agency__name", "unit__name"
    )
    return render(
        request,
        "agencies/location.html",
        {
            "agency": location.host_agency,
            "location": location,
            "form": form,
            "counters": counters,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def location_edit(request: HttpRequest, agency_slug: str, location_slug: str) -> HttpResponse:
    location = get_permitted(
        request.user,
        Action.MANAGE_AGENCY,
        Location.objects.select_related("host_agency"),
        host_agency__slug=agency_slug,
        slug=location_slug,
    )
    if request.method != "POST":
        return _render_location(
            request, location, LocationForm(initial=_location_initial(location))
        )
    form = LocationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            location_update(
                location=location,
                acting_user=request.user,
                weekly_hours=form.weekly_hours(),
                **{name: data[name] for name in LOCATION_FORM_FIELDS},
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("The location %(name)s is saved.") % {"name": location})
            return redirect(
                "agency_admin:location", agency_slug=agency_slug, location_slug=location.slug
            )
        location.refresh_from_db()
    return _render_location(request, location, form, status=400)


# --- A unit's counters -----------------------------------------------------------------------


class CounterForm(Form):
    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"),
        queryset=Location.objects.none(),
        empty_label=gettext_lazy("Choose a location"),
    )
    label = forms.CharField(
        label=gettext_lazy("Counter"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("E.g. “Loket 12”."),
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Location.objects.filter(is_active=True)
            .exclude(counters__unit=unit)
            .order_by("province", "city", "name")
        )


def _permitted_unit(request: HttpRequest, agency_slug: str, unit_slug: str) -> Unit:
    return get_permitted(
        request.user,
        Action.MANAGE_AGENCY,
        Unit.objects.select_related("agency"),
        agency__slug=agency_slug,
        slug=unit_slug,
    )


def _render_counters(
    request: HttpRequest, unit: Unit, form: CounterForm, status: int = 200
) -> HttpResponse:
    counters = unit.counters.select_related("location").order_by("location__name")
    return render(
        request,
        "agencies/unit_locations.html",
        {"agency": unit.agency, "unit": unit, "counters": counters, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def unit_locations(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    unit = _permitted_unit(request, agency_slug, unit_slug)
    if request.method != "POST":
        return _render_counters(request, unit, CounterForm(unit=unit))
    form = CounterForm(request.POST, unit=unit)
    if form.is_valid():
        try:
            counter = counter_attach(
                unit=unit,
                location=form.cleaned_data["location"],
                label=form.cleaned_data["label"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(
                request,
                _("%(unit)s now serves at %(location)s.")
                % {"unit": unit.name, "location": counter.location.name},
            )
            return redirect(
                "agency_admin:unit_locations", agency_slug=agency_slug, unit_slug=unit_slug
            )
    return _render_counters(request, unit, form, status=400)


@require_POST
@otp_required_for_privileged
def counter_remove_view(request: HttpRequest, agency_slug: str, counter_id: int) -> HttpResponse:
    """Take a counter away: from its unit's page (the unit's agency) or its location's page
    (the host agency). `agency_slug` is the agency whose page the request comes from."""
    counter = get_object_or_404(
        Counter.objects.select_related("unit__agency", "location__host_agency"), pk=counter_id
    )
    if not can_remove_counter(request.user, counter):
        refuse(request.user, counter)
    try:
        counter_remove(counter=counter, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request,
        _("%(unit)s no longer serves at %(location)s.")
        % {"unit": counter.unit.name, "location": counter.location.name},
    )
    if counter.location.host_agency.slug == agency_slug and counter.unit.agency.slug != agency_slug:
        return redirect(
            "agency_admin:location", agency_slug=agency_slug, location_slug=counter.location.slug
        )
    return redirect(
        "agency_admin:unit_locations",
        agency_slug=counter.unit.agency.slug,
        unit_slug=counter.unit.slug,
    )
