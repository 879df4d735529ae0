from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, PermissionDeniedError
from core.forms import ModelForm
from notifications.forms import HttpURLField
from notifications.models import (
    EmailAddressHealth,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    RecipientPreference,
    UnitNotificationPreference,
    WebhookEndpoint,
)
from notifications.outbox import notification_resend
from notifications.settings_services import email_address_enable
from notifications.webhook_targets import WebhookTargetRefused, webhook_target


class AttemptInline(admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["started_at", "finished_at", "result", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "event", "recipient_shown", "channel", "level", "status", "attempts", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "channel", "event", "level"]
    # An exact address finds its rows (e.g. to answer a citizen's request about their data);
    # the pages themselves show a citizen's address masked.
    search_fields = ["=recipient", "idempotency_key"]
    readonly_fields = [
        "recipient_shown" if f.name == "recipient" else f.name for f in Notification._meta.fields
    ]
    exclude = ["recipient"]

    @admin.display(description=_("recipient"))
    def recipient_shown(self, obj: Notification) -> str:
        return obj.recipient_display

    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.action(description=_("Send the selected failed notifications again"))
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        done = 0
        for row in queryset.filter(status=NotificationStatus.FAILED).select_related("unit"):
            try:
                notification_resend(notification=row, acting_user=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        self.message_user(request, _("%(n)d notifications queued again.") % {"n": done})


class WebhookEndpointAdminForm(ModelForm):
    url = HttpURLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["agency", "url", "units", "secret", "is_active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            webhook_target(url, unresolved_ok=True)  # the rule the agency pages apply
        except WebhookTargetRefused as exc:
            raise forms.ValidationError(exc.message, code="webhook_target") from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointAdminForm
    list_display = ["url", "agency", "is_active", "consecutive_permanent_failures", "disabled_at"]
    list_filter = ["is_active"]
    readonly_fields = ["consecutive_permanent_failures", "disabled_at", "last_error"]


@admin.register(UnitNotificationPreference)
class UnitNotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["unit", "digest"]
    list_filter = ["digest"]


@admin.register(RecipientPreference)
class RecipientPreferenceAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "mode", "kinds", "updated_at"]
    list_filter = ["mode"]
    search_fields = ["email"]
    raw_id_fields = ["user"]


@admin.register(EmailAddressHealth)
class EmailAddressHealthAdmin(admin.ModelAdmin):
    list_display = ["email", "consecutive_permanent_failures", "disabled_at", "updated_at"]
    list_filter = [("disabled_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    readonly_fields = ["consecutive_permanent_failures", "last_error", "disabled_at", "updated_at"]
    actions = ["enable"]

    @admin.action(description=_("Enable the selected addresses again"))
    def enable(self, request: HttpRequest, queryset: QuerySet[EmailAddressHealth]) -> None:
        done = 0
        for health in queryset.filter(disabled_at__isnull=False):
            try:
                email_address_enable(health=health, acting_user=request.user)
                done += 1
            except PermissionDeniedError:
                self.message_user(request, f"{health}: {_('Not allowed.')}", messages.ERROR)
        self.message_user(request, _("%(n)d addresses enabled again.") % {"n": done})
