from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Assertions read the English source messages, whatever the .po files say."""
    with translation.override("en"):
        yield
