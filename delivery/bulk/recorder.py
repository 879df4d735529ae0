"""The bulk recorder: validate every item, then write the valid ones chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agencies.models import Agency
from delivery.bulk.apply import ChunkWriter
from delivery.bulk.items import CleanItem, ItemError, ItemValidator
from delivery.bulk.plan import AgencyCatalogue
from delivery.bulk.results import ItemResult

MAX_ITEMS = 10_000
# Items per transaction: new ones take one COPY and one INSERT a chunk (delivery.bulk.setwise),
# so a chunk's cost is mostly its commit; an import reports its progress once a chunk.
CHUNK_SIZE = 2000


class DeliveryRecorder:
    """Records deliveries of one agency in bulk; keep one per request or import job.

    Services, standard versions and calendars are loaded once and reused for every chunk.
    `position` names an item's place in messages: "item" (API, 0-based) or "line" (CSV).
    """

    def __init__(self, *, agency: Agency, acting_user: Any, position: str = "item") -> None:
        self.agency = agency
        self.acting_user = acting_user
        self.catalogue = AgencyCatalogue(agency)
        self.validator = ItemValidator(
            catalogue=self.catalogue, acting_user=acting_user, position=position
        )
        self.writer = ChunkWriter(agency=agency, catalogue=self.catalogue, acting_user=acting_user)

    def record(
        self, raw_items: Iterable[tuple[int, Any]], *, chunk_size: int = CHUNK_SIZE
    ) -> list[ItemResult]:
        """Validate every item, then write the valid ones chunk by chunk.

        Returns one result per item, in the order given.
        """
        order: list[int] = []
        by_index: dict[int, ItemResult] = {}
        clean: list[CleanItem] = []
        for index, raw in raw_items:
            order.append(index)
            try:
                clean.append(self.validator.validate(index, raw))
            except ItemError as error:
                reference = raw.get("reference") if isinstance(raw, Mapping) else None
                by_index[index] = ItemResult(
                    index,
                    reference if isinstance(reference, str) else "",
                    "error",
                    error.errors,
                )
        for start in range(0, len(clean), chunk_size):
            for result in self.writer.write(clean[start : start + chunk_size]):
                by_index[result.index] = result
        return [by_index[index] for index in order]
