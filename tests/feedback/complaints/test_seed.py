"""The demo complaints: every state, idempotent."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from demo.complaints import PLANS, seed_complaints
from demo.management.commands.seed_demo import seed_registry
from feedback.complaints.models import Complaint
from feedback.complaints.states import ComplaintStatus


def test_demo_complaints_cover_every_state_and_are_idempotent(db: Any) -> None:
    with transaction.atomic():
        seed_registry()
    assert seed_complaints() == len(PLANS)
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses == set(ComplaintStatus.values)
    assert Complaint.objects.filter(events__action="route").exists()
    assert Complaint.objects.filter(ombudsman_requested_at__isnull=False).exists()
    assert Complaint.objects.filter(evidence__isnull=False).exists()
    assert seed_complaints() == 0
    assert Complaint.objects.count() == len(PLANS)
