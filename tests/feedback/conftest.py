from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from delivery.services import delivery_record
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.registry import make_service

JAKARTA = dt.timezone(dt.timedelta(hours=7))


def wib(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=JAKARTA)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Rate-limit counters live in the shared cache, per client address.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def service_a(national: Any, agency_a: Any, unit_a: Any) -> Any:
    service = make_service(agency_a, unit_a, name="Izin Usaha", slug="izin-usaha")
    data, children = factories.complete_version_data(is_free=True, clock_start="on_receipt")
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(version=version, acting_user=None, published_at=wib(2025, 1, 2))
    return service


@pytest.fixture
def completed(service_a: Any) -> Any:
    now = dt.datetime.now(tz=JAKARTA)
    delivery, _ = delivery_record(
        service=service_a,
        reference="SKM-1",
        submitted_at=now - dt.timedelta(days=2),
        completed_at=now - dt.timedelta(hours=1),
    )
    return delivery


@pytest.fixture
def open_request(service_a: Any) -> Any:
    delivery, _ = delivery_record(
        service=service_a,
        reference="SKM-2",
        submitted_at=dt.datetime.now(tz=JAKARTA) - dt.timedelta(hours=3),
    )
    return delivery
