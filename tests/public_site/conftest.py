from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from demo.management.commands.seed_demo import seed_registry


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The standard body cache is keyed by version id: ids repeat between test databases.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db: Any) -> None:
    seed_registry()
