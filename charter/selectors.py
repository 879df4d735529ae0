"""Reads for charters, scoped by the permission policy."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agencies.policy import Action, scope
from charter.models import Charter, CharterStatus

PUBLIC_STATUSES = (CharterStatus.PUBLISHED, CharterStatus.SUPERSEDED, CharterStatus.WITHDRAWN)


def charter_list_visible(*, user: Any) -> QuerySet[Charter]:
    """Published and superseded charters for everyone, plus drafts where the user may view
    the agency's private data."""
    private = scope(user, Charter.objects.all(), Action.VIEW_PRIVATE, agency_field="unit__agency")
    return Charter.objects.filter(Q(status__in=PUBLIC_STATUSES) | Q(pk__in=private.values("pk")))


def charter_list_for_staff(*, user: Any) -> QuerySet[Charter]:
    """Every charter, drafts included, of the units whose private data the user may view."""
    return scope(user, Charter.objects.all(), Action.VIEW_PRIVATE, agency_field="unit__agency")
