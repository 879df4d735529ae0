from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from tests.delivery.conftest import wib
from tests.registry import make_published, make_service


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # Figures are cached per scope id and rate-limit counters per IP: ids repeat between
    # test databases and counters between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def service_a(national: Any, agency_a: Any, unit_a: Any) -> Any:
    """5 working days from a complete file; standard cost Rp 50.000."""
    service = make_service(agency_a, unit_a, name="Izin Usaha", slug="izin-usaha")
    make_published(
        service,
        {"cost_items": [{"name": "Retribusi", "amount": 50000, "legal_basis": "Perda 1/2024"}]},
        published_at=wib(2025, 1, 2),
        is_free=False,
        clock_start="on_receipt",
    )
    return service
