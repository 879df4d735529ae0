"""Survei Kepuasan Masyarakat (SKM), computed exactly (PermenPANRB 14/2017).

The one home of the survey's arithmetic: every page, report and test asks this module.
Pure Python, no models, so it can be checked against hand-computed examples and properties.

- NRR (nilai rata-rata) of an element = the sum of its scores / the number of respondents.
- IKM = the mean of the nine NRRs: a weight of exactly 1/9 each (a `Fraction`), never the
  rounded 0.111 of spreadsheets, which shifts the index by up to 0.1% and a grade with it.
- The converted index (nilai konversi) = IKM x 25, in 25..100.
- Every value stays an exact `Fraction` until it is displayed.

Grades and the displayed rounding: the regulation's grade bands are written at two decimals
on the converted index (D 25.00-64.99, C 65.00-76.60, B 76.61-88.30, A 88.31-100.00) and
leave gaps between them (88.305 is in no band). The converted index is therefore shown
rounded half up to two decimals (as the agencies' published reports and spreadsheets do), and
the grade is read from that shown value: the gaps close, and a page never shows a number in
one band beside another band's letter. `GRADE_BANDS` holds the lower edges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

ELEMENT_COUNT = 9
MIN_SCORE = 1
MAX_SCORE = 4
ELEMENT_WEIGHT = Fraction(1, ELEMENT_COUNT)
CONVERSION_FACTOR = 25

# Lower edge of each grade on the converted index shown at two decimals, best first.
GRADE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("A", Decimal("88.31")),
    ("B", Decimal("76.61")),
    ("C", Decimal("65.00")),
    ("D", Decimal("25.00")),
)

# Krejcie and Morgan (1970): chi-square for one degree of freedom at 95% (3.841), the
# population proportion that maximises the sample (0.5) and a 5% margin of error.
KM_CHI_SQUARE = Fraction(3841, 1000)
KM_PROPORTION = Fraction(1, 2)
KM_MARGIN = Fraction(5, 100)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` rounded half up to `places` decimals, exactly (no float, no double rounding)."""
    scale = 10**places
    scaled = value * scale
    rounded = math.floor(scaled + Fraction(1, 2))
    return Decimal(rounded).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def grade_for(converted_shown: Decimal) -> str:
    """The letter for a converted index as shown (two decimals)."""
    for letter, lower in GRADE_BANDS:
        if converted_shown >= lower:
            return letter
    raise ValueError(f"A converted index below 25.00 is impossible: {converted_shown}")


@dataclass(frozen=True)
class SkmResult:
    respondents: int
    # Exact values, for further arithmetic (trends, aggregation).
    nrr: tuple[Fraction, ...]
    ikm: Fraction
    converted: Fraction

    @property
    def converted_shown(self) -> Decimal:
        return round_half_up(self.converted, 2)

    @property
    def ikm_shown(self) -> Decimal:
        return round_half_up(self.ikm, 4)

    @property
    def nrr_shown(self) -> tuple[Decimal, ...]:
        return tuple(round_half_up(value, 2) for value in self.nrr)

    @property
    def grade(self) -> str:
        return grade_for(self.converted_shown)

    def lowest_elements(self) -> list[int]:
        """Indexes (0-based) of the elements with the lowest NRR (all of them on a tie)."""
        lowest = min(self.nrr)
        return [index for index, value in enumerate(self.nrr) if value == lowest]


def check_response(response: Sequence[int], position: int = 1) -> Sequence[int]:
    """`response` if it is nine integer scores of 1..4, else a ValueError saying why."""
    if isinstance(response, str | bytes) or not isinstance(response, Sequence):
        raise ValueError(f"Response {position}: nine scores expected, got {response!r}.")
    if len(response) != ELEMENT_COUNT:
        raise ValueError(
            f"Response {position}: {ELEMENT_COUNT} scores expected, got {len(response)}."
        )
    for score in response:
        # bool is an int in Python; True is not a score.
        if type(score) is not int or not MIN_SCORE <= score <= MAX_SCORE:
            raise ValueError(
                f"Response {position}: every score is an integer from {MIN_SCORE} to "
                f"{MAX_SCORE}, got {score!r}."
            )
    return response


def skm_result(responses: Iterable[Sequence[int]]) -> SkmResult:
    """The survey's result from its responses, each nine scores of 1..4 in element order.

    Raises ValueError on a malformed response or when there is none (no mean of nothing).
    """
    sums = [0] * ELEMENT_COUNT
    count = 0
    for count, response in enumerate(responses, start=1):
        for index, score in enumerate(check_response(response, count)):
            sums[index] += score
    if count == 0:
        raise ValueError("No responses: a survey result needs at least one.")
    return _result(sums=sums, respondents=count)


def skm_result_from_sums(*, sums: Sequence[int], respondents: int) -> SkmResult:
    """The same result from per-element sums already added up by the database.

    Pages aggregate in SQL (one row per period) rather than loading every response; the
    arithmetic after the sums is this module's, as for `skm_result`.
    """
    if respondents <= 0:
        raise ValueError("No responses: a survey result needs at least one.")
    if len(sums) != ELEMENT_COUNT:
        raise ValueError(f"{ELEMENT_COUNT} sums expected, got {len(sums)}.")
    for total in sums:
        if type(total) is not int or not MIN_SCORE * respondents <= total <= (
            MAX_SCORE * respondents
        ):
            raise ValueError(f"A sum of {respondents} scores of 1..4 cannot be {total!r}.")
    return _result(sums=sums, respondents=respondents)


def _result(*, sums: Sequence[int], respondents: int) -> SkmResult:
    nrr = tuple(Fraction(total, respondents) for total in sums)
    ikm = sum((value * ELEMENT_WEIGHT for value in nrr), Fraction(0))
    return SkmResult(respondents=respondents, nrr=nrr, ikm=ikm, converted=ikm * CONVERSION_FACTOR)


def krejcie_morgan(population: int) -> int:
    """The sample a population of `population` requests needs (Krejcie and Morgan), rounded up.

    S = X²·N·P(1-P) / (d²·(N-1) + X²·P(1-P)): 80 for 100, 278 for 1,000, 384 for 1,000,000.
    """
    if type(population) is not int or population < 0:
        raise ValueError(f"A population is a whole number of requests, got {population!r}.")
    if population == 0:
        return 0
    spread = KM_CHI_SQUARE * KM_PROPORTION * (1 - KM_PROPORTION)
    sample = spread * population / (KM_MARGIN**2 * (population - 1) + spread)
    return math.ceil(sample)
