"""The exports stream: memory stays flat when the number of published scores grows 20x.

Rows are made with bulk_create (the export reads stored rows only, so how they were
computed does not matter here); the peak of Python allocations while the whole response is
consumed is measured with tracemalloc at two sizes."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from decimal import Decimal

import pytest

from agencies.models import Agency
from compliance.exporting import csv_chunks, xlsx_file
from compliance.models import Assessment, AssessmentMethod, AssessmentState, DimensionResult

pytestmark = pytest.mark.django_db


def _published(n: int, prefix: str) -> None:
    method = AssessmentMethod.objects.get(code="kepatuhan-2022")
    dimensions = list(method.dimensions.all())
    agencies = Agency.objects.bulk_create(
        Agency(name=f"Dinas {prefix} {i}", slug=f"dinas-{prefix}-{i}", level="city")
        for i in range(n)
    )
    assessments = Assessment.objects.bulk_create(
        Assessment(
            method=method,
            agency=agency,
            period="2024",
            starts_on=dt.date(2024, 1, 1),
            ends_on=dt.date(2024, 12, 31),
            state=AssessmentState.PUBLISHED,
            score=Decimal("80.25"),
            coverage=Decimal("90.00"),
            grade="B",
            zone="green",
            label_id="Kualitas tinggi",
        )
        for agency in agencies
    )
    DimensionResult.objects.bulk_create(
        DimensionResult(
            assessment=assessment,
            dimension=dimension,
            code=dimension.code,
            position=dimension.position,
            title_id=dimension.title_id,
            weight=dimension.weight,
            score=Decimal("80.00"),
        )
        for assessment in assessments
        for dimension in dimensions
    )


def _peak(consume) -> tuple[int, int]:
    tracemalloc.start()
    try:
        size = consume()
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def _csv() -> int:
    return sum(len(chunk) for chunk in csv_chunks())


def _xlsx() -> int:
    with xlsx_file() as handle:
        return len(handle.read(1024 * 1024)) and handle.seek(0, 2)


@pytest.mark.parametrize("export", [_csv, _xlsx], ids=["csv", "xlsx"])
def test_export_memory_is_flat(export):
    export()  # imports and first-use caches, outside the measurement
    # Both sizes above the read chunk (1,000 rows): 2,000 and 10,000 rows.
    _published(500, "kecil")
    small_peak, small_size = _peak(export)
    Assessment.objects.all().delete()
    _published(2500, "besar")
    large_peak, large_size = _peak(export)
    assert large_size > 4 * small_size  # the output did grow 5x...
    # ...and the memory did not grow with it.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    print(f"{export.__name__}: peak {small_peak} B for 2,000 rows, {large_peak} B for 10,000")
