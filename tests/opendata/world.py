"""Open-data test worlds: survey answers in bulk."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from feedback.elements import SCORE_FIELDS
from feedback.models import SurveyChannel, SurveyResponse


def survey(unit: Any, service: Any, scores: list[int], n: int, period: str) -> None:
    """`n` open-survey answers with these nine scores for a unit (and service) in a period."""
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            agency=unit.agency,
            unit=unit,
            service=service,
            channel=SurveyChannel.OPEN,
            period=period,
            device=f"d{period}{i}{service.pk if service else 0}",
            submitted_at=timezone.now(),
            **dict(zip(SCORE_FIELDS, scores, strict=True)),
        )
        for i in range(n)
    )
