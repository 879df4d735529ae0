"""feedback/skm.py against hand-computed examples and properties (PermenPANRB 14/2017)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.skm import (
    ELEMENT_COUNT,
    krejcie_morgan,
    round_half_up,
    skm_result,
    skm_result_from_sums,
)


def responses_with_total(*, respondents: int, total: int) -> list[list[int]]:
    """`respondents` responses of nine scores whose scores add up to `total`.

    Start from all 4s and take points away one score at a time (a score never below 1), so
    the set is a real survey whose converted index is 25 * total / (9 * respondents).
    """
    rows = [[4] * ELEMENT_COUNT for _ in range(respondents)]
    deficit = 4 * ELEMENT_COUNT * respondents - total
    assert 0 <= deficit <= 3 * ELEMENT_COUNT * respondents
    cell = 0
    while deficit:
        row, column = divmod(cell % (respondents * ELEMENT_COUNT), ELEMENT_COUNT)
        if rows[row][column] > 1:
            rows[row][column] -= 1
            deficit -= 1
        cell += 1
    return rows


# Hand-computed: converted = 25 * total / (9 * n), so each line below is exact.
#   88.30 = 25 * 7947 / (9 * 250)      (IKM 3.5320)
#   88.31 = 25 * 79479 / (9 * 2500)    (IKM 3.5324)
#   76.60 = 25 * 3447 / (9 * 125)      (IKM 3.0640)
#   76.61 = 25 * 68949 / (9 * 2500)    (IKM 3.0644)
#   65.00 = 25 * 117 / (9 * 5)         (IKM 2.6000)
#   64.99 = 25 * 58491 / (9 * 2500)    (IKM 2.5996)
@pytest.mark.parametrize(
    ("respondents", "total", "converted", "grade"),
    [
        (250, 7947, "88.30", "B"),
        (2500, 79479, "88.31", "A"),
        (125, 3447, "76.60", "C"),
        (2500, 68949, "76.61", "B"),
        (5, 117, "65.00", "C"),
        (2500, 58491, "64.99", "D"),
    ],
)
def test_grade_edges(respondents: int, total: int, converted: str, grade: str) -> None:
    result = skm_result(responses_with_total(respondents=respondents, total=total))
    assert result.converted == Fraction(converted)  # exact, not merely displayed
    assert result.converted_shown == Decimal(converted)
    assert result.grade == grade


def test_extremes_are_a_and_d() -> None:
    best = skm_result([[4] * 9])
    worst = skm_result([[1] * 9])
    assert (best.converted_shown, best.grade) == (Decimal("100.00"), "A")
    assert (worst.converted_shown, worst.grade) == (Decimal("25.00"), "D")


def test_a_rounded_weight_would_give_the_wrong_grade() -> None:
    # Five respondents, four answering 32 points and one 31: 159 points in all.
    # NRRs: 4, 4, 4, 4, 4, 4, 3, 3, 2 + (the fifth row's lost point on element 9) / 5.
    rows = [[4, 4, 4, 4, 4, 4, 3, 3, 2]] * 4 + [[4, 4, 4, 4, 4, 4, 3, 3, 1]]
    result = skm_result(rows)
    assert result.nrr == (4, 4, 4, 4, 4, 4, 3, 3, Fraction(9, 5))
    # IKM = 159 / 45 = 3.5333...; converted = 88.333... -> 88.33, grade A.
    assert result.ikm == Fraction(159, 45)
    assert result.converted_shown == Decimal("88.33")
    assert result.grade == "A"
    # With the weight rounded to 0.111: 0.111 * 31.8 = 3.5298 -> 88.245 -> 88.25, a B.
    rounded = round_half_up(Fraction("0.111") * sum(result.nrr) * 25, 2)
    assert rounded == Decimal("88.25")
    assert rounded < Decimal("88.31")


def test_nrr_and_lowest_elements() -> None:
    result = skm_result([[4, 3, 2, 4, 4, 4, 4, 4, 4], [4, 3, 2, 4, 4, 4, 4, 4, 2]])
    assert result.nrr_shown[:3] == (Decimal("4.00"), Decimal("3.00"), Decimal("2.00"))
    assert result.nrr[8] == 3
    assert result.lowest_elements() == [2]
    assert result.respondents == 2


def test_lowest_elements_keeps_ties() -> None:
    result = skm_result([[2, 4, 4, 4, 4, 4, 4, 4, 2]])
    assert result.lowest_elements() == [0, 8]


def test_round_half_up_is_exact() -> None:
    assert round_half_up(Fraction(88305, 1000), 2) == Decimal("88.31")
    assert round_half_up(Fraction(8830499999, 100000000), 2) == Decimal("88.30")
    assert str(round_half_up(Fraction(65), 2)) == "65.00"


def test_the_gap_between_bands_follows_the_shown_value() -> None:
    # 88.305 lies between B's 88.30 and A's 88.31: shown as 88.31, graded A, never a
    # page with "88.31" and a B beside it. Every element summing to 17661 over 5000
    # respondents: NRR = IKM = 3.5322, converted = 88.305.
    result = skm_result_from_sums(sums=[17661] * 9, respondents=5000)
    assert result.converted == Fraction("88.305")
    assert (result.converted_shown, result.grade) == (Decimal("88.31"), "A")


@pytest.mark.parametrize(
    "bad",
    [
        [[4] * 8],  # eight scores
        [[4] * 10],  # ten
        [[4] * 8 + [5]],  # out of range
        [[4] * 8 + [0]],
        [[4] * 8 + [3.5]],  # not an integer
        [[4] * 8 + [True]],  # a bool is not a score
        [[4] * 8 + ["4"]],
        ["444444444"],  # a string is not a sequence of scores
        [],  # no responses
    ],
)
def test_bad_responses_raise_value_error(bad: list[Any]) -> None:
    with pytest.raises(ValueError):
        skm_result(bad)


def test_sums_form_rejects_impossible_sums() -> None:
    with pytest.raises(ValueError):
        skm_result_from_sums(sums=[5] * 9, respondents=1)  # one person scores at most 4
    with pytest.raises(ValueError):
        skm_result_from_sums(sums=[4] * 9, respondents=0)
    with pytest.raises(ValueError):
        skm_result_from_sums(sums=[4] * 8, respondents=1)


@pytest.mark.parametrize(("population", "sample"), [(100, 80), (1_000, 278), (1_000_000, 384)])
def test_krejcie_morgan_table(population: int, sample: int) -> None:
    assert krejcie_morgan(population) == sample


def test_krejcie_morgan_small_and_bad() -> None:
    assert krejcie_morgan(0) == 0
    assert krejcie_morgan(1) == 1
    for bad in (-1, 10.5, "100"):
        with pytest.raises(ValueError):
            krejcie_morgan(bad)  # type: ignore[arg-type]


scores = st.integers(min_value=1, max_value=4)
responses = st.lists(st.lists(scores, min_size=9, max_size=9), min_size=1, max_size=25)
# The machine is shared: no deadline, and no complaint when generation is slow.
survey_settings = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@survey_settings
@given(responses)
def test_matches_the_slow_obvious_twin(rows: list[list[int]]) -> None:
    result = skm_result(rows)
    n = len(rows)
    total = sum(sum(row) for row in rows)
    # IKM is the mean of every score, since each element has the same respondents.
    assert result.ikm == Fraction(total, 9 * n)
    assert result.converted == Fraction(25 * total, 9 * n)
    assert 1 <= result.ikm <= 4
    assert 25 <= result.converted <= 100
    for index in range(9):
        assert result.nrr[index] == Fraction(sum(row[index] for row in rows), n)


@survey_settings
@given(responses)
def test_grade_agrees_with_the_shown_value(rows: list[list[int]]) -> None:
    result = skm_result(rows)
    shown = result.converted_shown
    expected = (
        "A"
        if shown >= Decimal("88.31")
        else "B"
        if shown >= Decimal("76.61")
        else "C"
        if shown >= Decimal("65.00")
        else "D"
    )
    assert result.grade == expected
    assert abs(Fraction(shown) - result.converted) <= Fraction(1, 200)


@survey_settings
@given(responses)
def test_order_of_respondents_does_not_matter(rows: list[list[int]]) -> None:
    assert skm_result(rows) == skm_result(list(reversed(rows)))


@survey_settings
@given(responses)
def test_sums_form_matches(rows: list[list[int]]) -> None:
    sums = [sum(row[index] for row in rows) for index in range(9)]
    assert skm_result_from_sums(sums=sums, respondents=len(rows)) == skm_result(rows)


@survey_settings
@given(st.integers(min_value=1, max_value=10**9))
def test_krejcie_morgan_properties(population: int) -> None:
    sample = krejcie_morgan(population)
    # The limit for an infinite population is 3.841 * 0.25 / 0.0025 = 384.1, so 385 at most.
    assert 1 <= sample <= min(population, 385)
    assert krejcie_morgan(population + 1) >= sample
