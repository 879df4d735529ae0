"""The shipped methods against hand-computed examples, band edges included (issue 14).

Each example's arithmetic is written out beside it; the methods are read from the database
as the data migration shipped them, so a change to a shipped figure fails here too."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from compliance.methods import method_spec, method_with_parts
from compliance.scoring import checklist_score, score, share_score

pytestmark = pytest.mark.django_db


def _all(spec, value):
    return {
        (d.code, i.code): (Fraction(value) if value is not None else None)
        for d in spec.dimensions
        for i in d.indicators
    }


def _per_dimension(spec, values):
    return {
        (d.code, i.code): Fraction(values[d.code]) for d in spec.dimensions for i in d.indicators
    }


def _outcome(code, values):
    spec = method_spec(method_with_parts(code))
    return score(
        dimensions=spec.dimensions,
        values=values,
        bands=spec.bands,
        potential_bands=spec.potential_bands,
        missing_as_zero=spec.missing_as_zero,
    ), spec


def test_the_shipped_weights_and_edges_are_the_domain_figures():
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    assert {d.code: d.weight for d in spec.dimensions} == {
        "input": Decimal("21.85"),
        "process": Decimal("32.37"),
        "output": Decimal("24.24"),
        "complaints": Decimal("21.54"),
    }
    assert [(b.grade, b.lower, b.zone) for b in spec.bands] == [
        ("A", Decimal("88.00"), "green"),
        ("B", Decimal("78.00"), "green"),
        ("C", Decimal("66.00"), "yellow"),
        ("D", Decimal("51.00"), "red"),
        ("E", Decimal("0.00"), "red"),
    ]
    spec_2021 = method_spec(method_with_parts("kepatuhan-2021"))
    assert [(b.lower, b.zone) for b in spec_2021.bands] == [
        (Decimal("81.00"), "green"),
        (Decimal("51.00"), "yellow"),
        (Decimal("0.00"), "red"),
    ]
    spec_2025 = method_spec(method_with_parts("opini-2025"))
    weights = {d.code: d.weight for d in spec_2025.dimensions}
    assert weights["public_trust"] == Decimal(30)
    assert sum(w for c, w in weights.items() if c != "public_trust") == Decimal(70)
    codes = {i.code for d in spec_2025.dimensions for i in d.indicators}
    assert "corrective_actions_on_time" in codes


@pytest.mark.parametrize(
    ("value", "zone", "label"),
    [
        ("80.99", "yellow", "Kepatuhan sedang"),
        ("81.00", "green", "Kepatuhan tinggi"),
        ("50.99", "red", "Kepatuhan rendah"),
        ("51.00", "yellow", "Kepatuhan sedang"),
        ("100", "green", "Kepatuhan tinggi"),
        ("0", "red", "Kepatuhan rendah"),
        # Shown half up at two decimals, then banded: 80.995 is shown 81.00, so green.
        ("80.995", "green", "Kepatuhan tinggi"),
        ("80.994", "yellow", "Kepatuhan sedang"),
    ],
)
def test_2021_zone_edges(value, zone, label):
    spec = method_spec(method_with_parts("kepatuhan-2021"))
    outcome, _ = _outcome("kepatuhan-2021", _all(spec, Fraction(Decimal(value))))
    assert outcome.band.zone == zone
    assert outcome.band.label_id == label


def test_2021_hand_computed_mixed_example():
    # Eight equally weighted indicators: checklist 3, 3, 3, 2, 2, 1 (100, 100, 100, 66.67,
    # 66.67, 33.33) and two computed shares, 9 of 10 (90) and 1 of 2 (50).
    # (300 + 400/3 + 100/3 + 140) / 8 = (1820/3) / 8 = 75.8333... -> 75.83, yellow.
    spec = method_spec(method_with_parts("kepatuhan-2021"))
    codes = [i.code for i in spec.dimensions[0].indicators]
    scores = [checklist_score(v) for v in (3, 3, 3, 2, 2, 1)] + [
        share_score(9, 10),
        share_score(1, 2),
    ]
    outcome, _ = _outcome(
        "kepatuhan-2021", {("compliance", c): s for c, s in zip(codes, scores, strict=True)}
    )
    assert outcome.score == Fraction(1820, 24)
    assert outcome.shown == Decimal("75.83")
    assert outcome.band.zone == "yellow"
    assert outcome.coverage == 1


@pytest.mark.parametrize(
    ("value", "grade", "zone"),
    [
        ("87.99", "B", "green"),
        ("88.00", "A", "green"),
        ("77.99", "C", "yellow"),
        ("78.00", "B", "green"),
        ("65.99", "D", "red"),  # an editable default cut-off (66.00), flagged unsourced
        ("66.00", "C", "yellow"),
        ("50.99", "E", "red"),
        ("51.00", "D", "red"),
        ("87.995", "A", "green"),
    ],
)
def test_2022_grade_edges(value, grade, zone):
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    outcome, _ = _outcome("kepatuhan-2022", _all(spec, Fraction(Decimal(value))))
    assert (outcome.band.grade, outcome.band.zone) == (grade, zone)


def test_2022_hand_computed_weighted_total():
    # input 100, process 75, output 60, complaints 50 with the 2023 weights:
    # (21.85*100 + 32.37*75 + 24.24*60 + 21.54*50) / 100
    # = (2185 + 2427.75 + 1454.4 + 1077) / 100 = 71.4415 -> 71.44, C, yellow.
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    values = _per_dimension(spec, {"input": 100, "process": 75, "output": 60, "complaints": 50})
    outcome, _ = _outcome("kepatuhan-2022", values)
    assert outcome.score == Fraction("71.4415")
    assert outcome.shown == Decimal("71.44")
    assert (outcome.band.grade, outcome.band.zone) == ("C", "yellow")


def test_2022_a_missing_indicator_is_left_out_and_coverage_says_so():
    # Complaint handling has two indicators: the interviews (2 of 2 = 100) and the handling
    # time (no data yet). The dimension is then 100, not 50; coverage drops by half of the
    # dimension's 21.54%: 100 - 10.77 = 89.23%.
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    values = _per_dimension(spec, {"input": 80, "process": 80, "output": 80, "complaints": 100})
    values[("complaints", "complaint_handling_time")] = None
    outcome, _ = _outcome("kepatuhan-2022", values)
    complaints = next(d for d in outcome.dimensions if d.code == "complaints")
    assert complaints.score == 100
    # (21.85*80 + 32.37*80 + 24.24*80 + 21.54*100) / 100 = 80 + 21.54*20/100 = 84.308
    assert outcome.score == Fraction("84.308")
    assert outcome.coverage_shown == Decimal("89.23")


def test_2022_missing_counts_as_zero_under_that_policy():
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    values = _per_dimension(spec, {"input": 80, "process": 80, "output": 80, "complaints": 100})
    values[("complaints", "complaint_handling_time")] = None
    outcome = score(
        dimensions=spec.dimensions, values=values, bands=spec.bands, missing_as_zero=True
    )
    # complaints = 50; total = 80 - 21.54*30/100 = 80 - 6.462 = 73.538
    assert outcome.score == Fraction("73.538")


def test_2025_opinion_hand_computed():
    # The four dimensions at 80 weigh 70%, public trust at 100 weighs 30%:
    # 0.7*80 + 0.3*100 = 56 + 30 = 86.00 -> B (green), potential low (>= 81.00, green).
    spec = method_spec(method_with_parts("opini-2025"))
    values = _per_dimension(
        spec, {"input": 80, "process": 80, "output": 80, "complaints": 80, "public_trust": 100}
    )
    outcome, _ = _outcome("opini-2025", values)
    assert outcome.score == 86
    assert outcome.band.grade == "B"
    assert outcome.band.zone == "green"
    assert outcome.potential.zone == "green"
    # All four dimensions perfect, public trust nil: 70.00 -> C, potential medium.
    values = _per_dimension(
        spec, {"input": 100, "process": 100, "output": 100, "complaints": 100, "public_trust": 0}
    )
    outcome, _ = _outcome("opini-2025", values)
    assert outcome.shown == Decimal("70.00")
    assert outcome.band.grade == "C"
    assert outcome.potential.label_id == "Potensi maladministrasi sedang"
    # 88.00 is the top opinion.
    outcome, _ = _outcome("opini-2025", _all(spec, 88))
    assert outcome.band.label_id == "Opini Kualitas Tertinggi Tanpa Maladministrasi"


def test_no_data_at_all_gives_no_score():
    spec = method_spec(method_with_parts("kepatuhan-2022"))
    outcome, _ = _outcome("kepatuhan-2022", _all(spec, None))
    assert outcome.score is None
    assert outcome.band is None
    assert outcome.coverage == 0


@pytest.mark.parametrize("bad", [-1, 4, True, 1.5])
def test_checklist_refuses_values_outside_0_to_3(bad):
    with pytest.raises(ValueError):
        checklist_score(bad)


def test_shares():
    assert share_score(3, 4) == 75
    assert share_score(0, 0) is None
    with pytest.raises(ValueError):
        share_score(5, 4)
