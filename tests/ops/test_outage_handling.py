"""The pieces that let the sweep and the drainer live through a database restart, in process
(tests/ops/test_database_restart.py restarts a real server under real processes)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from core import db_outage
from delivery.services import delivery_record
from notifications.channels import SENT
from notifications.models import Notification, NotificationAttempt, NotificationStatus
from notifications.outbox import claim, expand_fanouts
from notifications.outbox.drain import DrainResult, _Recorder
from oversight import sweep as sweep_module
from oversight.models import SweepError, SweepRun
from tests.delivery.conftest import wib
from tests.notifications.conftest import late_breach

# The module (the package exports its `drain` function under the same name).
drain_module = importlib.import_module("notifications.outbox.drain")


class _Clock:
    """time.sleep and time.monotonic for db_outage: sleeping only moves the clock on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    clock = _Clock()
    monkeypatch.setattr(db_outage, "time", clock)
    return clock.slept


def _failing(times: int, error: type[Exception] = OperationalError) -> Any:
    calls = {"n": 0}

    def work() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error("server closed the connection unexpectedly")
        return "done"

    work.calls = calls  # type: ignore[attr-defined]
    return work


def test_connection_errors_are_outlasted(no_sleep: list[float]) -> None:
    work = _failing(3, InterfaceError)
    assert db_outage.outlast_outage(work, what="testing", patience=60) == "done"
    assert work.calls["n"] == 4
    assert no_sleep == [0.5, 1.0, 2.0]  # backing off


def test_patience_runs_out(no_sleep: list[float]) -> None:
    with pytest.raises(OperationalError):
        db_outage.outlast_outage(_failing(100), what="testing", patience=3, max_delay=1)
    assert sum(no_sleep) <= 3


def test_other_errors_are_not_retried(no_sleep: list[float]) -> None:
    work = _failing(1, IntegrityError)
    with pytest.raises(IntegrityError):
        db_outage.outlast_outage(work, what="testing", patience=60)
    assert work.calls["n"] == 1 and no_sleep == []


@pytest.mark.django_db
def test_never_retried_inside_a_transaction(no_sleep: list[float]) -> None:
    work = _failing(1)
    with transaction.atomic(), pytest.raises(OperationalError):
        db_outage.outlast_outage(work, what="testing", patience=60)
    assert work.calls["n"] == 1


@pytest.mark.django_db
def test_a_data_error_is_not_a_lost_connection() -> None:
    assert not db_outage.connection_lost(IntegrityError("duplicate key"))
    assert not db_outage.connection_lost(OperationalError("lock timeout"))  # still usable
    assert not db_outage.connection_lost(ValueError("no"))


def test_the_sweep_fails_its_run_when_the_connection_is_lost(
    db: Any, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(sweep_module, "_insert", lost)
    monkeypatch.setattr(sweep_module, "connection_lost", lambda exc: True)
    with pytest.raises(OperationalError):
        sweep_module.sweep()
    # No watermark kept (the next run re-examines the same changes), and no record skipped.
    assert not SweepRun.objects.filter(succeeded=True).exists()
    assert not SweepError.objects.exists()


def test_the_sweep_still_skips_a_bad_record_on_a_working_connection(
    db: Any, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bad(*args: Any, **kwargs: Any) -> int:
        raise IntegrityError("a bad row")

    delivery_record(
        service=service,
        reference="late",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=wib(2026, 1, 20),
    )
    monkeypatch.setattr(sweep_module, "_insert", bad)
    result = sweep_module.sweep(kinds=["late_delivery"])
    # Retried row by row, the bad record skipped and logged: the run goes on.
    assert result.errors == 1 and result.run.finished_at is not None
    assert SweepError.objects.filter(kind="late_delivery").count() == 1


def test_an_outcome_whose_commit_answer_was_lost_is_recorded_once(
    transactional_db: Any, service: Any, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    """The record committed, then the connection dropped before the answer came: the retry
    sees the row `sent` and records nothing more."""
    late_breach(service)
    expand_fanouts()
    ids = claim(now=timezone.now(), limit=10)
    row = Notification.objects.get(pk=ids[0])
    real = drain_module.record_outcome
    calls = {"n": 0}

    def committed_then_lost(*args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        status = real(*args, **kwargs)
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return status

    monkeypatch.setattr(drain_module, "record_outcome", committed_then_lost)
    result = DrainResult()
    _Recorder(result=result, now=timezone.now())(row, SENT)
    assert calls["n"] == 1  # the retry found it recorded
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert NotificationAttempt.objects.filter(notification=row).count() == 1
    assert result.outcomes[NotificationStatus.SENT] == 1


def test_an_outcome_is_recorded_once_the_database_is_back(
    transactional_db: Any, service: Any, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    late_breach(service)
    expand_fanouts()
    row = Notification.objects.get(pk=claim(now=timezone.now(), limit=10)[0])
    real = drain_module.record_outcome
    calls = {"n": 0}

    def down_twice(*args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("connection refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(drain_module, "record_outcome", down_twice)
    _Recorder(result=DrainResult(), now=timezone.now())(row, SENT)
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and calls["n"] == 3
    assert NotificationAttempt.objects.filter(notification=row).count() == 1
