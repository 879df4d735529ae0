from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from compliance import services
from compliance.models import AssessmentMethod


def ensure_methods() -> None:
    """Ship the three methods again if a transactional test flushed them (its flush empties
    every table, the data migration's rows included): the migration's own function."""
    if not AssessmentMethod.objects.exists():
        from django.apps import apps

        importlib.import_module("compliance.migrations.0002_ship_three_methods").ship(apps, None)


@pytest.fixture(autouse=True)
def _methods(db: Any) -> None:
    ensure_methods()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The league's opinions are cached, and ids repeat between test databases.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def method_2022(db: Any) -> AssessmentMethod:
    return AssessmentMethod.objects.get(code="kepatuhan-2022")


@pytest.fixture
def year() -> int:
    return dt.date.today().year


@pytest.fixture
def assessment_a(agency_a: Any, published_a: Any, ombudsman: Any, method_2022: Any, year: int):
    return services.assessment_create(
        method=method_2022, agency=agency_a, year=year, acting_user=ombudsman
    )
