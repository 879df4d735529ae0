"""Reading /metrics back: the value of one sample in a Prometheus text exposition."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-me-0123456789"


def scrape(client: Any) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
