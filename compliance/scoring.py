"""The assessment's arithmetic, exact: indicator scores -> dimension scores -> the weighted
total -> grade and zone from the method's bands. Pure Python (no models), so every method
can be checked against hand-computed examples.

- An indicator scores 0..100: a checklist value v of 0..3 scores v/3 x 100; a count of p
  of n interviews p/n x 100; a computed share its share x 100 (compliance.indicators).
- A dimension's score is the weighted mean of its indicators' scores (weights relative
  within the dimension); the total is the weighted mean of the dimensions' scores with the
  dimensions' weights (percent, adding up to 100).
- An indicator without data (None): under the "excluded" policy it is left out and the
  weights of the rest are scaled up to their sum (a dimension with no data at all is left
  out of the total the same way); under the "zero" policy it counts as 0. `coverage` says
  which share of the method's weight had data.
- Everything stays a `Fraction` until it is shown. The total is shown rounded half up to two
  decimals, and the grade and zone are read from that shown value, so the page never shows
  a number in one band beside another band's letter (80.99 is yellow and 81.00 green in the
  2021 method; 87.99 is B and 88.00 A in 2022-2024; 80.995 is shown 81.00, so green).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from feedback.skm import round_half_up

CHECKLIST_MAX = 3
HUNDRED = Fraction(100)


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    weight: Decimal


@dataclass(frozen=True)
class DimensionSpec:
    code: str
    weight: Decimal  # percent of the total
    indicators: Sequence[IndicatorSpec]


@dataclass(frozen=True)
class BandSpec:
    lower: Decimal  # inclusive, two decimals
    grade: str
    zone: str
    label_id: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class DimensionScore:
    code: str
    score: Fraction | None
    coverage: Fraction  # share (0..1) of the dimension's indicator weight with data

    @property
    def shown(self) -> Decimal | None:
        return None if self.score is None else round_half_up(self.score, 2)


@dataclass(frozen=True)
class Outcome:
    score: Fraction | None
    coverage: Fraction  # share (0..1) of the method's weight with data
    dimensions: tuple[DimensionScore, ...]
    band: BandSpec | None
    potential: BandSpec | None

    @property
    def shown(self) -> Decimal | None:
        return None if self.score is None else round_half_up(self.score, 2)

    @property
    def coverage_shown(self) -> Decimal:
        return round_half_up(self.coverage * 100, 2)


def checklist_score(value: int) -> Fraction:
    """An assessor's 0..3 as a score of 0..100."""
    if type(value) is not int or not 0 <= value <= CHECKLIST_MAX:
        raise ValueError(f"A checklist score is an integer from 0 to 3, got {value!r}.")
    return Fraction(value * 100, CHECKLIST_MAX)


def share_score(part: int, whole: int) -> Fraction | None:
    """`part` of `whole` as a score of 0..100 (None when there is nothing to count)."""
    if type(part) is not int or type(whole) is not int or part < 0 or whole < 0 or part > whole:
        raise ValueError(f"A share needs 0 <= part <= whole, got {part!r} of {whole!r}.")
    if whole == 0:
        return None
    return Fraction(100 * part, whole)


def _weighted(
    pairs: Sequence[tuple[Fraction, Fraction | None]], *, missing_as_zero: bool
) -> tuple[Fraction | None, Fraction]:
    """(weighted mean, share of the weight with data) of (weight, score) pairs."""
    total_weight = sum((weight for weight, _ in pairs), Fraction(0))
    known = [(w, s) for w, s in pairs if s is not None]
    known_weight = sum((w for w, _ in known), Fraction(0))
    coverage = known_weight / total_weight if total_weight else Fraction(0)
    if missing_as_zero:
        if not known or not total_weight:
            return None, coverage
        return sum((w * s for w, s in known), Fraction(0)) / total_weight, coverage
    if not known_weight:
        return None, coverage
    return sum((w * s for w, s in known), Fraction(0)) / known_weight, coverage


def band_for(shown: Decimal, bands: Sequence[BandSpec]) -> BandSpec:
    """The band whose lower edge is the highest one at or below `shown`."""
    for band in sorted(bands, key=lambda b: b.lower, reverse=True):
        if shown >= band.lower:
            return band
    raise ValueError(f"No band holds the score {shown}.")


def score(
    *,
    dimensions: Sequence[DimensionSpec],
    values: Mapping[tuple[str, str], Fraction | None],
    bands: Sequence[BandSpec],
    potential_bands: Sequence[BandSpec] = (),
    missing_as_zero: bool = False,
) -> Outcome:
    """The outcome of one assessment: `values` maps (dimension code, indicator code) to a
    score of 0..100 or None (no data)."""
    for (dimension_code, indicator_code), value in values.items():
        if value is not None and not 0 <= value <= HUNDRED:
            raise ValueError(f"{dimension_code}/{indicator_code}: a score is 0..100, got {value}.")
    results = []
    for dimension in dimensions:
        pairs = [
            (Fraction(indicator.weight), values.get((dimension.code, indicator.code)))
            for indicator in dimension.indicators
        ]
        value, coverage = _weighted(pairs, missing_as_zero=missing_as_zero)
        results.append(DimensionScore(code=dimension.code, score=value, coverage=coverage))
    pairs = [
        (Fraction(dimension.weight), result.score)
        for dimension, result in zip(dimensions, results, strict=True)
    ]
    total, _ = _weighted(pairs, missing_as_zero=missing_as_zero)
    method_weight = sum((Fraction(d.weight) for d in dimensions), Fraction(0))
    coverage = (
        sum(
            (Fraction(d.weight) * r.coverage for d, r in zip(dimensions, results, strict=True)),
            Fraction(0),
        )
        / method_weight
        if method_weight
        else Fraction(0)
    )
    band = potential = None
    if total is not None:
        shown = round_half_up(total, 2)
        band = band_for(shown, bands)
        potential = band_for(shown, potential_bands) if potential_bands else None
    return Outcome(
        score=total, coverage=coverage, dimensions=tuple(results), band=band, potential=potential
    )
