"""A recommendation (rekomendasi) past its own deadline, its action still not done, is a
breach of its own kind exactly once: swept twice, or by two sweeps at the same moment,
and notified like any other breach."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection

from cases import services
from cases.models import Case, CorrectiveAction, Recommendation
from notifications.models import Notification
from oversight.models import Breach
from oversight.notices import BREACH_CREATED
from oversight.sweep import sweep
from tests.cases.conftest import advance

KIND = "recommendation_overdue"


def _recommended(case_a: Case, ombudsman: Any, editor_a: Any) -> tuple[Case, Recommendation]:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    action = CorrectiveAction.objects.get(finding__case=case)
    assert action.due_at is not None
    late = action.due_at + dt.timedelta(days=1)
    case = services.case_transition(
        case,
        "raise_recommendation",
        ombudsman,
        now=late,
        action_id=action.pk,
        text="Laksanakan tindakan korektif.",
    )
    return case, Recommendation.objects.get(action=action)


@pytest.mark.django_db
def test_an_ignored_recommendation_becomes_a_breach_exactly_once(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, recommendation = _recommended(case_a, ombudsman, editor_a)
    # Default 60 working days: well after the action's own deadline.
    assert recommendation.due_days == 60
    assert recommendation.due_at > recommendation.issued_at + dt.timedelta(days=60)
    sweep(now=recommendation.due_at - dt.timedelta(minutes=1))
    assert not Breach.objects.filter(kind=KIND).exists()
    after = recommendation.due_at + dt.timedelta(minutes=1)
    sweep(now=after)
    sweep(now=after)  # the same moment again
    sweep(now=after + dt.timedelta(days=5))
    breach = Breach.objects.get(kind=KIND)
    assert (breach.subject_type, breach.subject_id, breach.unit_id, breach.agency_id) == (
        "recommendation",
        recommendation.pk,
        case.unit_id,
        case.agency_id,
    )
    assert breach.occurred_at == recommendation.due_at
    assert breach.service_id == case.service_id
    assert (
        Notification.objects.filter(
            event=BREACH_CREATED, subject_id=breach.pk, recipient=""
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_a_recommendation_whose_action_is_reported_done_is_no_breach(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case, recommendation = _recommended(case_a, ombudsman, editor_a)
    services.case_transition(
        case, "report_action", editor_a, action_id=recommendation.action_id, done=True
    )
    sweep(now=recommendation.due_at + dt.timedelta(days=1))
    assert not Breach.objects.filter(kind=KIND).exists()


@pytest.mark.django_db
def test_a_recommendation_not_yet_due_is_no_breach_though_its_action_is_overdue(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    _case, recommendation = _recommended(case_a, ombudsman, editor_a)
    sweep(now=recommendation.issued_at + dt.timedelta(days=1))
    assert not Breach.objects.filter(kind=KIND).exists()
    # The action itself is overdue: that is its own kind, once.
    assert Breach.objects.filter(kind="corrective_action_overdue").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_make_one_breach(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    _case, recommendation = _recommended(case_a, ombudsman, editor_a)
    now = recommendation.due_at + dt.timedelta(hours=1)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            sweep(now=now)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a sweep did not finish"
    assert not errors, errors
    assert Breach.objects.filter(kind=KIND).count() == 1
    assert (
        Notification.objects.filter(
            event=BREACH_CREATED,
            subject_id=Breach.objects.get(kind=KIND).pk,
            recipient="",
        ).count()
        == 1
    )
