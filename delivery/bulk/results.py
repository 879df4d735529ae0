"""What the bulk path answers: one result per item, in the order given, and the totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.errors import ApplicationError

NON_FIELD = "non_field_errors"


@dataclass
class ItemResult:
    index: int
    reference: str
    result: str  # "created", "updated" or "error"
    errors: dict[str, list[str]] = field(default_factory=dict)
    delivery_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "reference": self.reference,
            "result": self.result,
            "errors": self.errors,
        }


def refused(index: int, reference: str, error: ApplicationError) -> ItemResult:
    """The result of an item a business rule refused, on the field it names."""
    return ItemResult(index, reference, "error", {error.field or NON_FIELD: [error.message]})


def totals(results: Iterable[ItemResult]) -> dict[str, int]:
    counts = {"total": 0, "created": 0, "updated": 0, "error": 0}
    for result in results:
        counts["total"] += 1
        counts[result.result] += 1
    return counts
