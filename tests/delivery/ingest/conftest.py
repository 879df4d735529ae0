"""Agency A with two services whose standards are published, on the national calendar."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from delivery.models import ServiceDelivery
from tests.delivery.conftest import wib
from tests.registry import make_published, make_service

HEADER = [
    "reference",
    "service_slug",
    "submitted_at",
    "file_complete_at",
    "completed_at",
    "outcome",
    "fee_charged",
    "channel",
]


@pytest.fixture(autouse=True)
def var_dir(request: Any, settings: Any, tmp_path: Any) -> Any:
    """Uploads and reports go to a temporary directory (the real worker needs the shared one)."""
    if request.node.get_closest_marker("worker") is None:
        settings.VAR_DIR = tmp_path
    return settings.VAR_DIR


@pytest.fixture
def ktp(agency_a: Any, unit_a: Any, national: Any) -> Any:
    """5 working days from a complete file."""
    service = make_service(agency_a, unit_a, name="KTP Elektronik")
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5)
    return service


@pytest.fixture
def legalisir(agency_a: Any, unit_a: Any, national: Any) -> Any:
    """4 service hours from receipt."""
    service = make_service(agency_a, unit_a, name="Legalisir")
    make_published(
        service,
        published_at=wib(2025, 6, 1),
        processing_time_value=4,
        processing_time_unit="hours",
        clock_start="on_receipt",
    )
    return service


@pytest.fixture
def service_b(agency_b: Any, unit_b: Any, national: Any) -> Any:
    service = make_service(agency_b, unit_b, name="Surat Pindah")
    make_published(service, published_at=wib(2025, 6, 1))
    return service


@pytest.fixture
def api() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def csv_bytes(rows: list[list[str]], header: list[str] | None = None, **kwargs: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, **kwargs)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def row(
    reference: str,
    service: str = "ktp-elektronik",
    submitted: str = "2026-01-05 09:00",
    complete: str = "2026-01-05 09:00",
    completed: str = "",
    outcome: str = "",
    fee: str = "0",
    channel: str = "counter",
) -> list[str]:
    return [reference, service, submitted, complete, completed, outcome, fee, channel]


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        ServiceDelivery.objects.order_by("agency_id", "reference").values_list(
            "agency_id", "reference", "status", "due_date", "completed_at", "fee_charged"
        )
    )


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """These tests read the English source messages (URLs reversed here carry /en/)."""
    from django.utils import translation

    with translation.override("en"):
        yield
