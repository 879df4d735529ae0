"""Staff pages of notifications: the in-app inbox (the user's own notifications, unread
ones first to the eye), "My notification settings" (any staff user, for their own email
address) and "Agency notification settings" (agency admins: webhook endpoints, per-unit
daily digests and the disabled email addresses of the agency's units)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.otp import otp_required_for_privileged
from agencies.models import Agency, Unit
from agencies.policy import Action, agencies_for, get_permitted
from core.errors import ApplicationError, PermissionDeniedError
from notifications import registry
from notifications.forms import (
    InboxGroupForm,
    RecipientPreferenceForm,
    UnitDigestForm,
    WebhookEndpointEditForm,
    WebhookEndpointForm,
)
from notifications.models import (
    EmailAddressHealth,
    RecipientMode,
    UnitNotificationPreference,
    WebhookEndpoint,
)
from notifications.outbox import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_mark_group_read,
)
from notifications.selectors import inbox_entry, inbox_for_user, inbox_groups
from notifications.settings_services import (
    disabled_addresses_for_agency,
    email_address_enable,
    recipient_preference_get,
    recipient_preference_set,
    unit_digests_set,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_endpoint_update,
)

# The new endpoint's secret, kept in the (server-side) session only until the next page
# shows it once.
NEW_SECRET_SESSION_KEY = "notifications_new_webhook_secret"  # noqa: S105 - a key name


def _add_error(form: Any, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- The in-app inbox --------------------------------------------------------------------------


def _inbox_page(
    request: HttpRequest, *, group_form: InboxGroupForm | None = None, status: int = 200
) -> HttpResponse:
    notifications = inbox_for_user(user=request.user)
    shown = InboxGroupForm(request.GET) if "event" in request.GET else None
    group: dict[str, Any] | None = None
    if shown is not None:
        if shown.is_valid():
            group = shown.cleaned_data
            notifications = notifications.filter(event=group["event"])
            notifications = (
                notifications.filter(unit__isnull=True)
                if group["unit"] is None
                else notifications.filter(unit_id=group["unit"])
            )
        else:
            status = 400
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    entries = [(notification, inbox_entry(notification)) for notification in page]
    query = ""
    if group is not None:
        query = urlencode({"event": group["event"], "unit": group["unit"] or ""})
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "entries": entries,
            "groups": inbox_groups(user=request.user),
            "group": group,
            "shown_form": shown,
            "group_form": group_form,
            "query": query,
        },
        status=status,
    )


@otp_required_for_privileged
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox_page(request)


@require_POST
@otp_required_for_privileged
def mark_group_read(request: HttpRequest) -> HttpResponse:
    """Mark one group (event, unit) of the user's own inbox read."""
    form = InboxGroupForm(request.POST)
    if not form.is_valid():
        return _inbox_page(request, group_form=form, status=400)
    count = notifications_mark_group_read(
        acting_user=request.user,
        event=form.cleaned_data["event"],
        unit_id=form.cleaned_data["unit"],
    )
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("notifications:inbox")


@require_POST
@otp_required_for_privileged
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's row (or not an in-app row) is not found: 404, never 403.
    notification = get_object_or_404(inbox_for_user(user=request.user), pk=pk)
    notification_mark_read(notification=notification, acting_user=request.user)
    return redirect("notifications:inbox")


@require_POST
@otp_required_for_privileged
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(acting_user=request.user)
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("notifications:inbox")


# --- My notification settings ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def my_settings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    preference = recipient_preference_get(user=user)
    status = 200
    if request.method == "POST":
        form = RecipientPreferenceForm(request.POST)
        if form.is_valid():
            try:
                recipient_preference_set(
                    acting_user=user,
                    mode=form.cleaned_data["mode"],
                    kinds=form.cleaned_data["kinds"],
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except ApplicationError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("Your notification settings were saved."))
                return redirect("notifications:my_settings")
        status = 400
    else:
        form = RecipientPreferenceForm(
            initial={
                "mode": preference.mode if preference else RecipientMode.IMMEDIATE,
                "kinds": (preference.kinds if preference else None) or registry.kind_values(),
            }
        )
    return render(
        request,
        "notifications/settings/mine.html",
        {
            "form": form,
            "preference": preference,
            "managed_agencies": agencies_for(user, Action.MANAGE_AGENCY).order_by("name"),
        },
        status=status,
    )


# --- Agency notification settings -----------------------------------------------------------


def _endpoint(agency: Agency, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, agency=agency)


def _units(agency: Agency) -> list[Unit]:
    return list(Unit.objects.filter(agency=agency, is_active=True).order_by("name", "pk"))


def _endpoint_units(agency: Agency, endpoint: WebhookEndpoint) -> list[Unit]:
    """The units an endpoint may be limited to: the active ones, and any it is limited to
    already (a unit closed since must stay offered, or saving would widen the endpoint)."""
    return list(
        Unit.objects.filter(Q(is_active=True) | Q(webhook_endpoints=endpoint), agency=agency)
        .distinct()
        .order_by("name", "pk")
    )


def _digest_form(agency: Agency, data: Any = None) -> UnitDigestForm:
    units = _units(agency)
    digest_ids = set(
        UnitNotificationPreference.objects.filter(unit__in=units, digest=True).values_list(
            "unit_id", flat=True
        )
    )
    return UnitDigestForm(
        data, units=units, initial={f"unit_{u.pk}": u.pk in digest_ids for u in units}
    )


def _render_agency(
    request: HttpRequest,
    agency: Agency,
    *,
    add_form: WebhookEndpointForm | None = None,
    digest_form: UnitDigestForm | None = None,
    new_secret: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "notifications/settings/agency.html",
        {
            "agency": agency,
            "endpoints": WebhookEndpoint.objects.filter(agency=agency)
            .prefetch_related("units")
            .order_by("created_at", "pk"),
            "add_form": add_form or WebhookEndpointForm(units=_units(agency)),
            "digest_form": digest_form or _digest_form(agency),
            "disabled_addresses": disabled_addresses_for_agency(agency=agency),
            "new_secret": new_secret,
        },
        status=status,
    )


@require_GET
@never_cache  # the page may show a new signing secret: never keep it in a cache
@otp_required_for_privileged
def agency_settings(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    new_secret = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if new_secret and new_secret.get("agency") != agency.pk:
        new_secret = None
    return _render_agency(request, agency, new_secret=new_secret)


@require_POST
@otp_required_for_privileged
def webhook_add(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    form = WebhookEndpointForm(request.POST, units=_units(agency))
    if form.is_valid():
        try:
            endpoint = webhook_endpoint_create(
                agency=agency,
                url=form.cleaned_data["url"],
                unit_ids=form.cleaned_data["units"],
                acting_user=request.user,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            request.session[NEW_SECRET_SESSION_KEY] = {
                "agency": agency.pk,
                "endpoint": endpoint.pk,
                "url": endpoint.url,
                "secret": endpoint.secret,
            }
            messages.success(request, _("Webhook endpoint added."))
            return redirect("notifications:agency_settings", agency_slug=agency.slug)
    return _render_agency(request, agency, add_form=form, status=400)


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def webhook_edit(request: HttpRequest, agency_slug: str, pk: int) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    endpoint = _endpoint(agency, pk)
    status = 200
    if request.method == "POST":
        form = WebhookEndpointEditForm(request.POST, units=_endpoint_units(agency, endpoint))
        if form.is_valid():
            try:
                webhook_endpoint_update(
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    is_active=form.cleaned_data["is_active"],
                    unit_ids=form.cleaned_data["units"],
                    acting_user=request.user,
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied from exc
            except ApplicationError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("Webhook endpoint saved."))
                return redirect("notifications:agency_settings", agency_slug=agency.slug)
        status = 400
    else:
        form = WebhookEndpointEditForm(
            units=_endpoint_units(agency, endpoint),
            initial={
                "url": endpoint.url,
                "is_active": endpoint.is_active,
                "units": [unit.pk for unit in endpoint.units.all()],
            },
        )
    return render(
        request,
        "notifications/settings/webhook_edit.html",
        {"agency": agency, "endpoint": endpoint, "form": form},
        status=status,
    )


@require_POST
@otp_required_for_privileged
def webhook_enable(request: HttpRequest, agency_slug: str, pk: int) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    endpoint = _endpoint(agency, pk)
    try:
        webhook_endpoint_enable(endpoint=endpoint, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(request, _("Webhook endpoint enabled again."))
    return redirect("notifications:agency_settings", agency_slug=agency.slug)


@require_http_methods(["GET", "POST"])
@otp_required_for_privileged
def webhook_delete(request: HttpRequest, agency_slug: str, pk: int) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    endpoint = _endpoint(agency, pk)
    if request.method == "POST":
        try:
            webhook_endpoint_delete(endpoint=endpoint, acting_user=request.user)
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        messages.success(request, _("Webhook endpoint deleted."))
        return redirect("notifications:agency_settings", agency_slug=agency.slug)
    return render(
        request,
        "notifications/settings/webhook_delete.html",
        {"agency": agency, "endpoint": endpoint},
    )


@require_POST
@otp_required_for_privileged
def unit_digests(request: HttpRequest, agency_slug: str) -> HttpResponse:
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    form = _digest_form(agency, request.POST)
    if form.is_valid():
        try:
            unit_digests_set(
                agency=agency, digest_unit_ids=form.digest_unit_ids(), acting_user=request.user
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied from exc
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Daily digest settings saved."))
            return redirect("notifications:agency_settings", agency_slug=agency.slug)
    return _render_agency(request, agency, digest_form=form, status=400)


@require_POST
@otp_required_for_privileged
def address_enable(request: HttpRequest, agency_slug: str, pk: int) -> HttpResponse:
    """Enable a disabled email address that one of the agency's units lists (else 404)."""
    agency = get_permitted(request.user, Action.MANAGE_AGENCY, Agency, slug=agency_slug)
    listed = {d.health.pk: d.health for d in disabled_addresses_for_agency(agency=agency)}
    health: EmailAddressHealth | None = listed.get(pk)
    if health is None:
        raise Http404
    try:
        email_address_enable(health=health, acting_user=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied from exc
    messages.success(
        request,
        _("The address %(email)s will receive notifications again.") % {"email": health.email},
    )
    return redirect("notifications:agency_settings", agency_slug=agency.slug)
