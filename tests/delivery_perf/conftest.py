from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from agencies.calendars import calendar_national, calendar_rebuild
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.services.helpers import make_service

JAKARTA = dt.timezone(dt.timedelta(hours=7))


def wib(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Figures are cached per scope id and rate-limit counters per IP: ids repeat between
    # test databases and counters between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def national(db: Any) -> Any:
    calendar = calendar_national()
    calendar_rebuild(calendar, span=(2025, 2027))
    return calendar


@pytest.fixture
def service_a(national: Any, agency_a: Any, unit_a: Any) -> Any:
    """5 working days from a complete file; standard cost Rp 50.000."""
    service = make_service(agency_a, unit_a, name="Izin Usaha", slug="izin-usaha")
    data, children = factories.complete_version_data(is_free=False, clock_start="on_receipt")
    children["cost_items"] = [{"name": "Retribusi", "amount": 50000, "legal_basis": "Perda 1/2024"}]
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(version=version, acting_user=None, published_at=wib(2025, 1, 2))
    return service
