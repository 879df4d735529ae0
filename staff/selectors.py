"""Reads behind the staff dashboard: one query set per page, whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from services.components import Completeness, completeness
from services.models import Service, StandardVersion, VersionStatus
from services.selectors import VERSION_CHILDREN, service_list_for_staff


@dataclass
class DashboardRow:
    service: Service
    current: StandardVersion | None
    draft: StandardVersion | None
    completeness: Completeness | None

    @property
    def awaiting_approval(self) -> bool:
        return self.draft is not None and self.draft.status == VersionStatus.AWAITING_APPROVAL

    @property
    def review_overdue(self) -> bool:
        return bool(
            self.current
            and self.current.next_review_date
            and self.current.next_review_date < timezone.localdate()
        )

    @property
    def review_due(self) -> dt.date | None:
        return self.current.next_review_date if self.current else None


def dashboard_rows(*, user: Any) -> list[DashboardRow]:
    live = [
        VersionStatus.PUBLISHED,
        VersionStatus.DRAFT,
        VersionStatus.CONSULTATION,
        VersionStatus.AWAITING_APPROVAL,
    ]
    services = (
        service_list_for_staff(user=user)
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StandardVersion.objects.filter(status__in=live).prefetch_related(
                    *VERSION_CHILDREN
                ),
                to_attr="live_versions",
            )
        )
        .order_by("agency__name", "name")
    )
    rows = []
    for service in services:
        versions = service.live_versions
        current = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        draft = next((v for v in versions if v.status != VersionStatus.PUBLISHED), None)
        shown = current or draft
        rows.append(DashboardRow(service, current, draft, completeness(shown) if shown else None))
    return rows
