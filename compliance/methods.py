"""A stored method as the pure scoring module's specs (compliance.scoring)."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.models import AssessmentMethod, BandScale, MissingPolicy
from compliance.scoring import BandSpec, DimensionSpec, IndicatorSpec


@dataclass(frozen=True)
class MethodSpec:
    dimensions: tuple[DimensionSpec, ...]
    bands: tuple[BandSpec, ...]
    potential_bands: tuple[BandSpec, ...]
    missing_as_zero: bool


def method_with_parts(code: str) -> AssessmentMethod:
    return AssessmentMethod.objects.prefetch_related("dimensions__indicators", "bands").get(
        code=code
    )


def method_spec(method: AssessmentMethod) -> MethodSpec:
    """The method's specs (prefetch `dimensions__indicators` and `bands` to read it in 3
    queries)."""
    bands = list(method.bands.all())
    return MethodSpec(
        dimensions=tuple(
            DimensionSpec(
                code=dimension.code,
                weight=dimension.weight,
                indicators=tuple(
                    IndicatorSpec(code=indicator.code, weight=indicator.weight)
                    for indicator in dimension.indicators.all()
                ),
            )
            for dimension in method.dimensions.all()
        ),
        bands=tuple(_band(b) for b in bands if b.scale == BandScale.GRADE),
        potential_bands=tuple(_band(b) for b in bands if b.scale == BandScale.POTENTIAL),
        missing_as_zero=method.missing_policy == MissingPolicy.ZERO,
    )


def _band(band: object) -> BandSpec:
    from compliance.models import Band

    assert isinstance(band, Band)
    return BandSpec(
        lower=band.lower,
        grade=band.grade,
        zone=band.zone,
        label_id=band.label_id,
        label_en=band.label_en,
    )
