"""Staff pages of agencies: members and invitations, for agency administrators; API keys, which
an agency's admins manage for their agency and the ombudsman's reviewers for the ombudsman's
read-only key across agencies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.api_keys import (
    NAME_MAX_LENGTH,
    api_key_create,
    api_key_get,
    api_key_list,
    api_key_revoke,
    can_manage_ombudsman_keys,
)
from agencies.invitations import INVITABLE_ROLES, invitation_create, invitation_list_open
from agencies.licences import OpenDataLicence
from agencies.models import (
    AccessFacility,
    Agency,
    ApiKeyEvent,
    ApiKeyScope,
    Calendar,
    Membership,
    Role,
    Unit,
)
from agencies.policy import Action, get_permitted
from agencies.services import (
    PROFILE_FIELDS,
    agency_profile_update,
    membership_revoke,
    unit_close,
    unit_create,
    unit_update,
)
from core.client_ip import client_ip
from core.errors import ApplicationError, PermissionDeniedError
from core.forms import Form

# Indentation levels of the unit tree page (static/css/site.css: .tree-depth-0 to -9).
TREE_INDENT_LEVELS = 10


# --- The agency's profile --------------------------------------------------------------------


class AgencyProfileForm(Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    short_name = forms.CharField(label=gettext_lazy("Short name"), max_length=60, required=False)
    address = forms.CharField(
        label=gettext_lazy("Address"), max_length=500, required=False, widget=forms.Textarea
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    website = forms.URLField(
        label=gettext_lazy("Website"),
        max_length=200,
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        help_text=gettext_lazy("PNG, JPEG, GIF or WebP, at most 1 MB; stored as PNG."),
    )
    remove_logo = forms.BooleanField(label=gettext_lazy("Remove the logo"), required=False)
    open_data_licence = forms.ChoiceField(
        label=gettext_lazy("Open data licence"),
        choices=OpenDataLicence.choices,
        initial=OpenDataLicence.CC_BY_4_0,
        help_text=gettext_lazy(
            "The licence of the agency's rows in the bulk open data. CC BY 4.0 unless the "
            "agency chooses otherwise."
        ),
    )

    def clean_address(self) -> str:
        # Text areas submit CRLF; the model's own value is what the public page prints.
        return str(self.cleaned_data["address"]).replace("\r\n", "\n").strip()


def _render_profile(
    request: HttpRequest, agency: Agency, form: AgencyProfileForm, status: int = 200
) -> HttpResponse:
    return render(request, "agencies/profile.html", {"agency": agency, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def agency_profile(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    if request.method != "POST":
        initial = {name: getattr(agency, name) for name in PROFILE_FIELDS}
        return _render_profile(request, agency, AgencyProfileForm(initial=initial))
    form = AgencyProfileForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            agency_profile_update(
                agency=agency,
                acting_user=request.user,
                logo=data["logo"],
                remove_logo=data["remove_logo"],
                **{name: data[name] for name in PROFILE_FIELDS},
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("The agency's profile is saved."))
            return redirect("agency_admin:profile", agency_slug=agency.slug)
        agency.refresh_from_db()
    return _render_profile(request, agency, form, status=400)


# --- The unit tree ----------------------------------------------------------------------------


def _unit_choices(agency: Agency, *, exclude: Unit | None = None) -> Any:
    units = Unit.objects.filter(agency=agency, is_active=True).order_by("name")
    return units.exclude(pk=exclude.pk) if exclude is not None else units


class UnitCreateForm(Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    parent = forms.ModelChoiceField(
        label=gettext_lazy("Parent unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=gettext_lazy("None (a top unit)"),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = _unit_choices(agency)


def facilities_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=gettext_lazy("Facilities for vulnerable groups"),
        choices=AccessFacility.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def facilities_note_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Other facilities"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("E.g. reserved parking for people with disabilities."),
    )


class WeeklyHoursMixin:
    """Opening and closing time fields per weekday (a unit's service hours, a location's
    opening hours), in the shape `agencies.services.weekly_hours_clean` stores."""

    fields: dict[str, Any]
    cleaned_data: dict[str, Any]

    def add_hours_fields(self) -> None:
        for day in range(7):
            name = WEEKDAYS[day]
            self.fields[f"opens_{day}"] = forms.TimeField(
                label=format_lazy("{}: {}", name, gettext_lazy("opens at")), required=False
            )
            self.fields[f"closes_{day}"] = forms.TimeField(
                label=format_lazy("{}: {}", name, gettext_lazy("closes at")), required=False
            )

    def days(self) -> list[tuple[Any, Any, Any]]:
        return [
            (WEEKDAYS[day], self[f"opens_{day}"], self[f"closes_{day}"])  # type: ignore[index]
            for day in range(7)
        ]

    def weekly_hours(self) -> dict[str, list[str]]:
        hours: dict[str, list[str]] = {}
        for day in range(7):
            opens = self.cleaned_data.get(f"opens_{day}")
            closes = self.cleaned_data.get(f"closes_{day}")
            if opens is not None and closes is not None:
                hours[str(day)] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        return hours

    def clean_hours(self, data: dict[str, Any]) -> None:
        for day in range(7):
            opens, closes = data.get(f"opens_{day}"), data.get(f"closes_{day}")
            if (opens is None) != (closes is None) and not (
                self.has_error(f"opens_{day}")  # type: ignore[attr-defined]
                or self.has_error(f"closes_{day}")  # type: ignore[attr-defined]
            ):
                missing = f"closes_{day}" if closes is None else f"opens_{day}"
                self.add_error(  # type: ignore[attr-defined]
                    missing, _("Give both the opening and the closing time.")
                )


def hours_initial(weekly_hours: dict[str, list[str]] | None) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for day, pair in (weekly_hours or {}).items():
        initial[f"opens_{day}"], initial[f"closes_{day}"] = pair
    return initial


class UnitForm(WeeklyHoursMixin, UnitCreateForm):
    head_name = forms.CharField(label=gettext_lazy("Head of unit"), max_length=120, required=False)
    head_title = forms.CharField(
        label=gettext_lazy("Title of the head"), max_length=160, required=False
    )
    head_email = forms.EmailField(
        label=gettext_lazy("Email of the head"), max_length=254, required=False
    )
    address = forms.CharField(
        label=gettext_lazy("Address"), max_length=500, required=False, widget=forms.Textarea
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    contact_emails = forms.CharField(
        label=gettext_lazy("Contact emails for notices"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One address per line: where breach notices and other notifications for this unit go."
        ),
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Work calendar"),
        queryset=Calendar.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("The agency's calendar"),
    )
    facilities = facilities_field()
    facilities_note = facilities_note_field()

    def __init__(self, *args: Any, agency: Agency, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, agency=agency, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        parent.queryset = _unit_choices(agency, exclude=unit)
        self.add_hours_fields()

    def clean_address(self) -> str:
        return str(self.cleaned_data["address"]).replace("\r\n", "\n").strip()

    def clean_facilities_note(self) -> str:
        return str(self.cleaned_data["facilities_note"]).replace("\r\n", "\n").strip()

    def clean_contact_emails(self) -> list[str]:
        addresses = [line.strip() for line in str(self.cleaned_data["contact_emails"]).splitlines()]
        addresses = list(dict.fromkeys(a for a in addresses if a))
        validate = EmailValidator()
        for address in addresses:
            validate(address)
        return addresses

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.clean_hours(data)
        return data


def _unit_initial(unit: Unit) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": unit.name,
        "parent": unit.parent_id,
        "head_name": unit.head_name,
        "head_title": unit.head_title,
        "head_email": unit.head_email,
        "address": unit.address,
        "phone": unit.phone,
        "contact_emails": "\n".join(str(e) for e in unit.contact_emails or []),
        "calendar": unit.calendar_id,
        "facilities": list(unit.facilities or []),
        "facilities_note": unit.facilities_note,
    }
    return initial | hours_initial(unit.weekly_hours)


def _render_units(
    request: HttpRequest, agency: Agency, form: UnitCreateForm, status: int = 200
) -> HttpResponse:
    units = list(
        Unit.objects.filter(agency=agency).only(
            "pk", "name", "slug", "parent_id", "is_active", "closed_on", "agency_id"
        )
    )
    children: dict[int | None, list[Unit]] = {}
    for unit in sorted(units, key=lambda u: u.name):
        children.setdefault(unit.parent_id, []).append(unit)
    tree: list[tuple[int, Unit]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            tree.append((min(depth, TREE_INDENT_LEVELS - 1), unit))  # CSS has that many
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return render(
        request,
        "agencies/units.html",
        {"agency": agency, "tree": tree, "form": form},
        status=status,
    )


def _form_error(form: Any, exc: ApplicationError) -> None:
    field = exc.field
    if field == "weekly_hours" and exc.extra and "weekday" in exc.extra:
        field = f"closes_{exc.extra['weekday']}"
    form.add_error(field if field in form.fields else None, exc.message)


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def units(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    if request.method != "POST":
        return _render_units(request, agency, UnitCreateForm(agency=agency))
    form = UnitCreateForm(request.POST, agency=agency)
    if form.is_valid():
        try:
            unit = unit_create(
                agency=agency,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The unit %(name)s is created.") % {"name": unit.name})
            return redirect("agency_admin:unit", agency_slug=agency.slug, unit_slug=unit.slug)
    return _render_units(request, agency, form, status=400)


def _render_unit(
    request: HttpRequest, unit: Unit, form: UnitForm, close_form: Form, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "agencies/unit.html",
        {"agency": unit.agency, "unit": unit, "form": form, "close_form": close_form},
        status=status,
    )


class UnitCloseForm(Form):
    closed_on = forms.DateField(
        label=gettext_lazy("Closed on"), widget=forms.DateInput(attrs={"type": "date"})
    )


def _permitted_unit(request: HttpRequest, agency_slug: str, unit_slug: str) -> Unit:
    return get_permitted(
        request.user,
        Action.MANAGE_AGENCY,
        Unit.objects.select_related("agency"),
        agency__slug=agency_slug,
        slug=unit_slug,
    )


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def unit_edit(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    unit = _permitted_unit(request, agency_slug, unit_slug)
    agency = unit.agency
    if request.method != "POST":
        form = UnitForm(initial=_unit_initial(unit), agency=agency, unit=unit)
        return _render_unit(request, unit, form, UnitCloseForm())
    form = UnitForm(request.POST, agency=agency, unit=unit)
    if form.is_valid():
        data = form.cleaned_data
        try:
            unit_update(
                unit=unit,
                acting_user=request.user,
                name=data["name"],
                parent=data["parent"],
                head_name=data["head_name"],
                head_title=data["head_title"],
                head_email=data["head_email"],
                address=data["address"],
                phone=data["phone"],
                contact_emails=data["contact_emails"],
                calendar=data["calendar"],
                weekly_hours=form.weekly_hours(),
                facilities=data["facilities"],
                facilities_note=data["facilities_note"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _form_error(form, exc)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("The unit %(name)s is saved.") % {"name": unit.name})
            return redirect("agency_admin:unit", agency_slug=agency.slug, unit_slug=unit.slug)
        unit.refresh_from_db()
    return _render_unit(request, unit, form, UnitCloseForm(), status=400)


@require_POST
@otp_required_for_privileged
def unit_close_view(request: HttpRequest, agency_slug: str, unit_slug: str) -> HttpResponse:
    unit = _permitted_unit(request, agency_slug, unit_slug)
    close_form = UnitCloseForm(request.POST)
    if close_form.is_valid():
        try:
            unit_close(
                unit=unit, closed_on=close_form.cleaned_data["closed_on"], acting_user=request.user
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            close_form.add_error(exc.field if exc.field in close_form.fields else None, exc.message)
        else:
            messages.success(request, _("The unit %(name)s is closed.") % {"name": unit.name})
            return redirect("agency_admin:units", agency_slug=unit.agency.slug)
    form = UnitForm(initial=_unit_initial(unit), agency=unit.agency, unit=unit)
    return _render_unit(request, unit, form, close_form, status=400)


# --- Members and invitations ------------------------------------------------------------------


class InviteForm(Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=[(value, label) for value, label in Role.choices if value in INVITABLE_ROLES],
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=gettext_lazy("Whole agency"),
        help_text=gettext_lazy("Optional: limit the role to one unit."),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = Unit.objects.filter(agency=agency, is_active=True).order_by("name")


def _render_members(
    request: HttpRequest, agency: Agency, form: InviteForm, status: int = 200
) -> HttpResponse:
    memberships = (
        Membership.objects.filter(agency=agency)
        .select_related("user", "unit")
        .order_by("role", "user__last_name", "user__first_name", "user__username")
    )
    return render(
        request,
        "agencies/members.html",
        {
            "agency": agency,
            "memberships": memberships,
            "invitations": invitation_list_open(agency=agency),
            "form": form,
        },
        status=status,
    )


@require_GET
@otp_required_for_privileged
def members(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    return _render_members(request, agency, InviteForm(agency=agency))


@require_POST
@otp_required_for_privileged
def member_invite(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    form = InviteForm(request.POST, agency=agency)
    if form.is_valid():
        try:
            invitation = invitation_create(
                agency=agency,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                unit=form.cleaned_data["unit"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("agency_admin:members", agency_slug=agency.slug)
    return _render_members(request, agency, form, status=400)


@require_POST
@otp_required_for_privileged
def member_revoke(request: HttpRequest, agency_slug: str, membership_id: int) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, agency=agency
    )
    try:
        membership_revoke(membership=membership, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request,
        _("%(user)s no longer has the role %(role)s.")
        % {"user": membership.user, "role": membership.get_role_display()},
    )
    return redirect("agency_admin:members", agency_slug=agency.slug)


# --- API keys ---------------------------------------------------------------------------------


RECENT_EVENTS = 30


class ApiKeyForm(Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("Which system uses it, e.g. “SIAK counter app”."),
    )
    scope = forms.ChoiceField(label=gettext_lazy("Scope"), choices=ApiKeyScope.choices)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        help_text=gettext_lazy("Optional. The key stops working at the end of this day (WIB)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, ombudsman: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ombudsman:
            field = self.fields["scope"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(ApiKeyScope.READ.value, ApiKeyScope.READ.label)]

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        start_of_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(start_of_next)


def _agency_or_ombudsman(request: HttpRequest, agency_slug: str | None) -> Agency | None:
    if agency_slug is not None:
        return get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    if not can_manage_ombudsman_keys(request.user):
        raise Http404
    return None


def _list_url(agency: Agency | None) -> str:
    if agency is None:
        return reverse("api_keys:ombudsman")
    return reverse("agency_admin:api_keys", kwargs={"agency_slug": agency.slug})


def _render(
    request: HttpRequest,
    agency: Agency | None,
    form: ApiKeyForm,
    *,
    created: Any = None,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    keys = list(api_key_list(agency=agency))
    events = (
        ApiKeyEvent.objects.filter(key__in=[key.pk for key in keys])
        .select_related("key", "actor")
        .order_by("-at", "-pk")[:RECENT_EVENTS]
    )
    response = render(
        request,
        "agencies/api_keys.html",
        {
            "agency": agency,
            "keys": keys,
            "events": events,
            "form": form,
            "created": created,
            "secret": secret,
            "now": timezone.now(),
            "list_url": _list_url(agency),
        },
        status=status,
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def api_keys(request: HttpRequest, agency_slug: str | None = None) -> HttpResponse:
    agency = _agency_or_ombudsman(request, agency_slug)
    ombudsman = agency is None
    if request.method != "POST":
        return _render(request, agency, ApiKeyForm(ombudsman=ombudsman))
    form = ApiKeyForm(request.POST, ombudsman=ombudsman)
    if form.is_valid():
        try:
            key, secret = api_key_create(
                agency=agency,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                acting_user=request.user,
                ip=client_ip(request),
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            field = "expires_on" if exc.field == "expires_at" else exc.field
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            # Shown once, in this response only (never stored, never cached).
            return _render(
                request,
                agency,
                ApiKeyForm(ombudsman=ombudsman),
                created=key,
                secret=secret,
            )
    return _render(request, agency, form, status=400)


@require_POST
@otp_required_for_privileged
def api_key_revoke_view(
    request: HttpRequest, prefix: str, agency_slug: str | None = None
) -> HttpResponse:
    agency = _agency_or_ombudsman(request, agency_slug)
    key = api_key_get(agency=agency, prefix=prefix)
    if key is None:
        raise Http404
    try:
        api_key_revoke(key=key, acting_user=request.user, ip=client_ip(request))
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request, _("The key %(prefix)s is revoked: it no longer works.") % {"prefix": key.prefix}
    )
    return redirect(_list_url(agency))
