"""A journey's totals, as pure functions: the critical path and the dated worked example.

Each step starts when every step it needs has finished (the day the last of them falls due;
that day is not counted, as on the service page); steps with no dependency between them run
side by side, so their time is counted once. The journey's promised time is the longest
chain of working days; its cost is the sum of the steps' published costs (free: 0).

Dates come from a `due` function the caller supplies: the selector hands it the one clock
(`agencies.calendars.clock_due`) on each step's own unit calendar, so holidays and regional
closures count exactly as they do for a request. A step without a current published
standard promises nothing: it is carried through with no time and no cost (`counted` False),
so the steps after it still wait for what comes before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


class JourneyCycleError(ValueError):
    """The steps' dependencies go round in a circle (or name a step that is not there)."""


@dataclass(frozen=True)
class Leg:
    """One step as the arithmetic sees it."""

    key: int
    depends_on: tuple[int, ...] = ()
    counted: bool = True  # False: no published promise; no time, no cost
    cost: int = 0


@dataclass(frozen=True)
class LegPlan:
    key: int
    start: dt.date  # the day the step's request is handed in (not counted)
    due: dt.date  # the day it is promised by
    working_days: int  # its promised working days (its weight on the chain)
    critical: bool  # on the longest chain


@dataclass(frozen=True)
class JourneyPlan:
    start: dt.date
    end: dt.date  # the day the last step is promised by
    working_days: int  # the longest chain of working days: parallel steps counted once
    cost: int  # the counted steps' costs, summed
    legs: dict[int, LegPlan]
    critical_path: tuple[int, ...]


# `due(leg, start)` -> (due date, working days it promises) for a counted leg.
DueFunction = Callable[[Leg, dt.date], tuple[dt.date, int]]


def in_dependency_order(legs: Sequence[Leg]) -> list[Leg]:
    """The legs in an order where every leg comes after all it needs (stable on the given
    order); JourneyCycleError when that is impossible."""
    by_key = {leg.key: leg for leg in legs}
    for leg in legs:
        for needed in leg.depends_on:
            if needed not in by_key:
                raise JourneyCycleError(f"Step {leg.key} needs step {needed}, which is not there.")
    placed: set[int] = set()
    ordered: list[Leg] = []
    remaining = list(legs)
    while remaining:
        ready = [leg for leg in remaining if all(n in placed for n in leg.depends_on)]
        if not ready:
            raise JourneyCycleError("The steps' dependencies form a cycle.")
        for leg in ready:
            placed.add(leg.key)
            ordered.append(leg)
        remaining = [leg for leg in remaining if leg.key not in placed]
    return ordered


def longest_chain(
    weights: Mapping[int, int], depends_on: Mapping[int, Sequence[int]], order: Sequence[int]
) -> tuple[int, tuple[int, ...]]:
    """(length, keys) of the heaviest chain of dependencies; `order` is a dependency order."""
    finish: dict[int, int] = {}
    previous: dict[int, int | None] = {}
    for key in order:
        before = max(depends_on.get(key, ()), key=lambda k: finish[k], default=None)
        finish[key] = (finish[before] if before is not None else 0) + weights[key]
        previous[key] = before
    if not finish:
        return 0, ()
    last: int | None = max(order, key=lambda k: finish[k])
    length = finish[last]  # type: ignore[index]
    chain: list[int] = []
    while last is not None:
        chain.append(last)
        last = previous[last]
    return length, tuple(reversed(chain))


def journey_plan(legs: Sequence[Leg], *, start: dt.date, due: DueFunction) -> JourneyPlan:
    """The dated worked example and the totals of a journey begun on `start`."""
    ordered = in_dependency_order(legs)
    dates: dict[int, tuple[dt.date, dt.date]] = {}
    weights: dict[int, int] = {}
    for leg in ordered:
        begins = max((dates[k][1] for k in leg.depends_on), default=start)
        if leg.counted:
            ends, weight = due(leg, begins)
        else:
            ends, weight = begins, 0
        dates[leg.key] = (begins, ends)
        weights[leg.key] = weight
    depends = {leg.key: leg.depends_on for leg in legs}
    length, chain = longest_chain(weights, depends, [leg.key for leg in ordered])
    on_chain = set(chain)
    plans = {
        leg.key: LegPlan(
            key=leg.key,
            start=dates[leg.key][0],
            due=dates[leg.key][1],
            working_days=weights[leg.key],
            critical=leg.key in on_chain,
        )
        for leg in legs
    }
    return JourneyPlan(
        start=start,
        end=max((plan.due for plan in plans.values()), default=start),
        working_days=length,
        cost=sum(leg.cost for leg in legs if leg.counted),
        legs=plans,
        critical_path=chain,
    )
