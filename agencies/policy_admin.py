"""Admin plumbing: every admin queryset is scoped by the same policy as the site."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from agencies.policy import Action, scope


class PolicyScopedAdmin(SimpleHistoryAdmin):
    """Rows outside the user's agencies are invisible, even in the admin."""

    policy_agency_field = "agency"
    policy_unit_field: str | None = "unit"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope(
            request.user,
            super().get_queryset(request),
            Action.VIEW_PRIVATE,
            agency_field=self.policy_agency_field,
            unit_field=self.policy_unit_field,
        )
