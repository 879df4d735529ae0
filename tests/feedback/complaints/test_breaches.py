"""The breach engine's complaint rules: unanswered (verification or answer past its limit)
exactly once, limits per agency, and the link to the request's late or overcharge breach."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from delivery.services import delivery_record
from feedback.complaints import services
from feedback.complaints.breaches import limits_for
from oversight.models import Breach, BreachKind, BreachRule
from oversight.sweep import sweep

pytestmark = pytest.mark.django_db

UNANSWERED = BreachKind.UNANSWERED_COMPLAINT


def _unanswered(complaint: Any) -> list[str]:
    return sorted(
        Breach.objects.filter(kind=UNANSWERED, subject_id=complaint.pk).values_list(
            "period", flat=True
        )
    )


def test_verification_past_its_limit_is_a_breach_exactly_once(submit: Any) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(days=10))
    fresh = submit()
    assert complaint.verify_due_at < timezone.now() < fresh.verify_due_at
    sweep()
    sweep()
    assert _unanswered(complaint) == [f"verify:{complaint.agency_id}"]
    assert _unanswered(fresh) == []
    breach = Breach.objects.get(kind=UNANSWERED, subject_id=complaint.pk)
    assert breach.subject_type == "complaint" and breach.unit_id == complaint.unit_id
    assert breach.occurred_at == complaint.verify_due_at
    assert breach.promised_value == 3


def test_verified_in_time_is_no_breach(submit: Any, editor_a: Any) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(hours=1))
    services.complaint_verify(complaint=complaint, actor=editor_a)
    sweep()
    assert _unanswered(complaint) == []


def test_answer_past_its_limit_is_a_breach_exactly_once(submit: Any, editor_a: Any) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(days=20))
    services.complaint_verify(
        complaint=complaint, actor=editor_a, now=timezone.now() - dt.timedelta(days=14)
    )
    sweep()
    sweep()
    complaint.refresh_from_db()
    # Verified late too (past 3 working days): two facts, each once.
    assert _unanswered(complaint) == [
        f"answer:{complaint.agency_id}",
        f"verify:{complaint.agency_id}",
    ]
    # Answering late does not make a second answer breach.
    services.complaint_forward(complaint=complaint, actor=editor_a, public_text="x")
    services.complaint_answer(complaint=complaint, actor=editor_a, answer="y")
    sweep()
    assert len(_unanswered(complaint)) == 2


def test_the_limits_are_set_per_agency(submit: Any, agency_a: Any) -> None:
    BreachRule.objects.create(
        kind=UNANSWERED, agency=agency_a, settings={"verify_working_days": 10}
    )
    assert limits_for(agency_a.pk)["verify_working_days"] == 10
    complaint = submit(now=timezone.now() - dt.timedelta(days=8))
    # 10 working days after eight calendar days ago: not due yet.
    assert complaint.verify_due_at > timezone.now()
    sweep()
    assert _unanswered(complaint) == []


def test_a_switched_off_agency_gets_no_breach(submit: Any, agency_a: Any) -> None:
    BreachRule.objects.create(kind=UNANSWERED, agency=agency_a, is_active=False)
    complaint = submit(now=timezone.now() - dt.timedelta(days=10))
    sweep()
    assert _unanswered(complaint) == []


def test_routed_complaint_is_due_at_the_new_agency(
    submit: Any, editor_a: Any, agency_b: Any, unit_b: Any
) -> None:
    complaint = submit(now=timezone.now() - dt.timedelta(days=1))
    services.complaint_route(
        complaint=complaint,
        actor=editor_a,
        agency=agency_b,
        now=timezone.now() - dt.timedelta(days=10),
    )
    sweep()
    assert _unanswered(complaint) == [f"verify:{agency_b.pk}"]


# --- The link to the request's breach ----------------------------------------------------------


def test_a_verified_time_complaint_links_the_late_breach_creating_it_if_unseen(
    service_a: Any, submit: Any, editor_a: Any
) -> None:
    now = timezone.now()
    late, _ = delivery_record(
        service=service_a,
        reference="LATE-9",
        submitted_at=now - dt.timedelta(days=25),
        completed_at=now - dt.timedelta(days=1),
    )
    assert not Breach.objects.filter(delivery=late).exists()  # the sweep has not seen it
    complaint = submit(delivery=late, category="time")
    services.complaint_verify(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.linked_breach is not None
    assert complaint.linked_breach.kind == BreachKind.LATE_DELIVERY
    assert complaint.linked_breach.delivery_id == late.pk
    # The sweep later finds the same fact: still one breach.
    sweep()
    assert Breach.objects.filter(delivery=late, kind=BreachKind.LATE_DELIVERY).count() == 1


def test_an_on_time_request_links_nothing(service_a: Any, submit: Any, editor_a: Any) -> None:
    now = timezone.now()
    on_time, _ = delivery_record(
        service=service_a,
        reference="OK-1",
        submitted_at=now - dt.timedelta(days=2),
        completed_at=now - dt.timedelta(days=1),
    )
    complaint = submit(delivery=on_time, category="time")
    services.complaint_verify(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.linked_breach is None


def test_a_conduct_complaint_links_nothing(service_a: Any, submit: Any, editor_a: Any) -> None:
    now = timezone.now()
    late, _ = delivery_record(
        service=service_a,
        reference="LATE-10",
        submitted_at=now - dt.timedelta(days=25),
        completed_at=now - dt.timedelta(days=1),
    )
    complaint = submit(delivery=late, category="conduct")
    services.complaint_verify(complaint=complaint, actor=editor_a)
    complaint.refresh_from_db()
    assert complaint.linked_breach is None
