"""The journey's totals: the critical path on the working-day calendar, parallel steps
counted once, against a hand-computed example with a holiday."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lifeevents.journey import JourneyCycleError, Leg, in_dependency_order, journey_plan
from lifeevents.selectors import journey_view
from tests.lifeevents.conftest import MONDAY

D = dt.date


def _weekdays_due(leg: Leg, start: dt.date) -> tuple[dt.date, int]:
    """A stand-in clock for the pure tests: `leg.cost` working days (Mon-Fri), 4 March off."""
    days = leg.cost
    day, left = start, days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day != D(2026, 3, 4):
            left -= 1
    return day, days


def test_parallel_steps_count_once_and_the_longest_chain_is_the_total() -> None:
    legs = [
        Leg(key=1, cost=2),
        Leg(key=2, cost=3),
        Leg(key=3, depends_on=(1, 2), cost=1),
        Leg(key=4, depends_on=(1,), cost=1),
    ]
    plan = journey_plan(legs, start=MONDAY, due=_weekdays_due)
    assert plan.working_days == 4  # 3 + 1, not 2 + 3 + 1 + 1
    assert plan.critical_path == (2, 3)
    assert plan.legs[3].start == D(2026, 3, 6)  # waits for the later of its two prerequisites
    assert plan.end == D(2026, 3, 9)


def test_a_step_without_a_promise_passes_its_wait_on_and_adds_nothing() -> None:
    legs = [Leg(key=1, cost=2), Leg(key=2, depends_on=(1,), counted=False, cost=99)]
    legs.append(Leg(key=3, depends_on=(2,), cost=1))
    plan = journey_plan(legs, start=MONDAY, due=_weekdays_due)
    assert plan.legs[2].start == plan.legs[2].due == D(2026, 3, 5)
    assert plan.legs[3].start == D(2026, 3, 5)
    assert plan.working_days == 3
    assert plan.cost == 3  # the uncounted step's 99 is left out


def test_cycles_and_missing_steps_are_refused() -> None:
    with pytest.raises(JourneyCycleError):
        in_dependency_order([Leg(key=1, depends_on=(2,)), Leg(key=2, depends_on=(1,))])
    with pytest.raises(JourneyCycleError):
        in_dependency_order([Leg(key=1, depends_on=(7,))])


def test_the_birth_journey_against_a_hand_computed_example(birth: Any) -> None:
    """By hand, on the unit calendar (weekends and Wednesday 4 March 2026 closed), from
    Monday 2 March (not counted):
      A 2 wd: Tue 3, (Wed 4 holiday), Thu 5            -> due Thu 5 March
      B 3 wd, alongside A: Tue 3, Thu 5, Fri 6           -> due Fri 6 March
      C 1 wd, after A and B: from Fri 6: Mon 9           -> due Mon 9 March
      D 1 wd, after A: from Thu 5: Fri 6                 -> due Fri 6 March
      E no published standard, after C: not counted      -> Mon 9 March
    Longest chain B + C = 4 working days (not 2 + 3 + 1 + 1 = 7); ends Mon 9 March (Fri 6
    without the holiday). Cost: A Rp 10.000 (two lines) + C Rp 25.000 = Rp 35.000."""
    view = journey_view(birth, today=MONDAY)
    assert view.plan is not None
    rows = {step.service.name: step for step in view.steps}
    assert [s.service.name for s in view.steps] == [
        "Akta Kelahiran",
        "Surat Keterangan Lahir",
        "Perubahan KK",
        "Kartu Identitas Anak",
        "Pendaftaran Asuransi",
    ]
    assert (rows["Akta Kelahiran"].start, rows["Akta Kelahiran"].due) == (MONDAY, D(2026, 3, 5))
    assert rows["Surat Keterangan Lahir"].due == D(2026, 3, 6)
    assert (rows["Perubahan KK"].start, rows["Perubahan KK"].due) == (D(2026, 3, 6), D(2026, 3, 9))
    assert rows["Kartu Identitas Anak"].due == D(2026, 3, 6)
    assert rows["Pendaftaran Asuransi"].no_standard
    assert view.uncounted == [rows["Pendaftaran Asuransi"]]
    assert view.plan.working_days == 4
    assert view.plan.start == MONDAY
    assert view.plan.end == D(2026, 3, 9)
    assert view.plan.cost == 35000
    assert rows["Surat Keterangan Lahir"].critical and rows["Perubahan KK"].critical
    assert not rows["Akta Kelahiran"].critical
