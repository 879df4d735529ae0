"""`{% unread_count %}`: the signed-in user's unread in-app notifications (one query per request)."""

from __future__ import annotations

from django import template

from notifications.selectors import unread_count_for_user

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context: template.Context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return 0
    cached: int | None = getattr(request, "_unread_notifications", None)
    if cached is None:
        cached = unread_count_for_user(user=user)
        request._unread_notifications = cached
    return cached
