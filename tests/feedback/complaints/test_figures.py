"""Public figures per service and unit, and the query counts of the complaint pages (flat
in the number of complaints)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.complaints import services
from feedback.complaints.selectors import complaint_figures
from tests.accounts.conftest import login_verified

pytestmark = pytest.mark.django_db


def _handled(submit: Any, editor_a: Any, *, category: str, reopen: bool = False) -> Any:
    now = timezone.now()
    complaint = submit(category=category, now=now - dt.timedelta(days=3))
    services.complaint_verify(complaint=complaint, actor=editor_a, now=now - dt.timedelta(days=2))
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="Teks.")
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="Jawab.")
    if reopen:
        services.complaint_reopen(complaint=complaint, reason="Belum.")
    return complaint


def test_figures_by_type_in_time_median_and_reopened(
    submit: Any, editor_a: Any, service_a: Any
) -> None:
    _handled(submit, editor_a, category="time")
    _handled(submit, editor_a, category="time", reopen=True)
    _handled(submit, editor_a, category="cost")
    submit(category="cost", now=timezone.now() - dt.timedelta(days=10))  # never verified
    figures = complaint_figures(service=service_a)
    counts = dict(figures.by_category)
    assert figures.received == 4
    assert list(counts.values()).count(2) == 2 and sum(counts.values()) == 4
    # Three verified a day after receipt (in time), one past its limit unverified.
    assert figures.verified_in_time == pytest.approx(3 / 4)
    assert figures.answered_in_time == pytest.approx(1.0)
    assert figures.median_answer_days == pytest.approx(3.0, abs=0.01)
    assert figures.reopened == pytest.approx(1 / 3)
    unit_figures = complaint_figures(unit=service_a.unit)
    assert unit_figures.received == 4


def test_figures_page_shows_them(
    client: Client, submit: Any, editor_a: Any, service_a: Any
) -> None:
    _handled(submit, editor_a, category="time")
    html = client.get(
        reverse("complaints:service_figures", args=[service_a.agency.slug, service_a.slug])
    ).content.decode()
    assert 'data-figure="received">1<' in html
    assert 'data-figure="answered">100%<' in html


def _pages(complaint: Any, service: Any) -> list[str]:
    return [
        reverse("complaint_staff:list"),
        reverse("complaint_staff:detail", args=[complaint.pk]),
        reverse("complaints:status", args=[complaint.tracking_code]),
        reverse("complaints:service_figures", args=[service.agency.slug, service.slug]),
        reverse("complaints:unit_figures", args=[service.agency.slug, service.unit.slug]),
        reverse("complaints:service", args=[service.agency.slug, service.slug]),
    ]


def _counts(client: Client, urls: list[str]) -> list[int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        counts.append(len(ctx.captured_queries))
    return counts


def test_query_counts_are_pinned_and_flat_in_data_size(
    submit: Any, editor_a: Any, service_a: Any
) -> None:
    client = Client()
    login_verified(client, editor_a)
    first = _handled(submit, editor_a, category="time", reopen=True)
    small = _counts(client, _pages(first, service_a))
    for index in range(8):
        _handled(submit, editor_a, category=("cost", "conduct")[index % 2])
    large = _counts(client, _pages(first, service_a))
    assert large == small, (small, large)
    # Pinned (a signed-in handler): list, detail, status page, two figures pages, the form.
    assert small == [7, 9, 6, 8, 8, 5]
