"""The staff in-app inbox: the user's own notifications, unread ones first to the eye."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.otp import otp_required_for_privileged
from notifications.outbox import notification_mark_read, notifications_mark_all_read
from notifications.selectors import inbox_entry, inbox_for_user


@otp_required_for_privileged
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_for_user(user=request.user), 50).get_page(request.GET.get("page"))
    entries = [(notification, inbox_entry(notification)) for notification in page]
    return render(request, "notifications/inbox.html", {"page": page, "entries": entries})


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
