"""Demo satisfaction survey (SKM) responses, so that units' SKM pages show grades.

Answered through `survey_response_submit` (the periods, checks and uniqueness are the
project's own): a share of each unit's completed demo requests answer the survey after
their request, and a few people answer each unit's open survey. Each unit has its own
level of satisfaction and its own weak element, so the grades differ between units (A to
D) and some periods reach the Krejcie-Morgan sample while others fall short.

Deterministic for a seed, and idempotent: a request answers once (the database holds it),
and open-survey devices are named by the unit and a number, so re-running adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from agencies.models import Unit
from delivery.models import DeliveryStatus, ServiceDelivery
from demo import data
from demo.deliveries import REFERENCE_PREFIX
from feedback.elements import ELEMENTS
from feedback.models import AgeBand, Education, Occupation, Sex, SurveyChannel, SurveyResponse
from feedback.services import SurveyProfile, device_key, survey_response_submit

DEFAULT_SEED = 1417  # PermenPANRB 14/2017


@dataclass(frozen=True)
class _Mood:
    mean: float  # the typical score, 1..4
    response_rate: float  # share of completed requests that answer
    weak: str  # the element people like least (a field of feedback.elements)
    open_answers: int  # open-survey responses per quarter


MOODS: dict[str, _Mood] = {
    "mpp-bandung": _Mood(3.7, 0.75, "score_facilities", 12),
    "kantor-dinas": _Mood(3.35, 0.45, "score_time", 6),
    "perizinan-berusaha": _Mood(3.25, 0.5, "score_procedure", 4),
    "perizinan-bangunan": _Mood(2.95, 0.3, "score_time", 4),
    "loket-pelayanan": _Mood(3.05, 0.35, "score_behaviour", 8),
    "loket-pengukuran": _Mood(2.55, 0.2, "score_complaints", 3),
}
DEFAULT_MOOD = _Mood(3.2, 0.3, "score_time", 3)

SUGGESTIONS = [
    "Ruang tunggu perlu ditambah kursi.",
    "Petugas sudah ramah, pertahankan.",
    "Mohon informasi persyaratan dipasang lebih jelas di loket.",
    "Antrean terlalu lama pada pagi hari.",
    "Tolong sediakan layanan pesan singkat untuk status permohonan.",
    "Parkir kurang luas.",
]


def _scores(rng: random.Random, mood: _Mood) -> list[int]:
    scores = []
    for element in ELEMENTS:
        mean = mood.mean - (0.8 if element.field == mood.weak else 0.0)
        scores.append(min(4, max(1, round(rng.gauss(mean, 0.55)))))
    return scores


def _profile(rng: random.Random) -> SurveyProfile:
    if rng.random() < 0.3:
        return SurveyProfile()  # many leave the profile empty
    return SurveyProfile(
        age_band=rng.choice(AgeBand.values),
        sex=rng.choice(Sex.values),
        education=rng.choice(Education.values),
        occupation=rng.choice(Occupation.values),
    )


def _suggestion(rng: random.Random) -> str:
    return rng.choice(SUGGESTIONS) if rng.random() < 0.15 else ""


def seed_surveys(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None) -> int:
    """Record the demo survey responses that are missing. Returns how many were created."""
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by design
    slugs = [spec["slug"] for spec in data.AGENCIES]
    deliveries = list(
        ServiceDelivery.objects.filter(
            agency__slug__in=slugs,
            reference__startswith=f"{REFERENCE_PREFIX}-",
            status=DeliveryStatus.COMPLETED,
        )
        .select_related("unit", "service")
        .order_by("pk")
    )
    answered = set(
        SurveyResponse.objects.filter(delivery__in=deliveries).values_list("delivery_id", flat=True)
    )
    created = 0
    with transaction.atomic():
        for delivery in deliveries:
            mood = MOODS.get(delivery.unit.slug, DEFAULT_MOOD)
            # Drawn for every request, answered or not, so that a re-run draws the same.
            answers = rng.random() < mood.response_rate
            scores, profile, suggestion = _scores(rng, mood), _profile(rng), _suggestion(rng)
            assert delivery.completed_at is not None
            answered_at = delivery.completed_at + dt.timedelta(hours=rng.randint(1, 48))
            if answered_at > now:
                # Which requests are answered must not depend on the clock, or a second run
                # minutes later would answer one more: a recent request is answered at once.
                answered_at = delivery.completed_at
            if not answers or delivery.pk in answered:
                continue
            survey_response_submit(
                unit=delivery.unit,
                delivery=delivery,
                channel=SurveyChannel.AFTER_REQUEST,
                scores=scores,
                profile=profile,
                suggestion=suggestion,
                now=answered_at,
            )
            created += 1
        created += _seed_open(rng=rng, now=now, slugs=slugs)
    return created


def _seed_open(*, rng: random.Random, now: dt.datetime, slugs: list[str]) -> int:
    created = 0
    units = list(
        Unit.objects.filter(agency__slug__in=slugs).select_related("agency").order_by("pk")
    )
    existing = set(
        SurveyResponse.objects.filter(channel=SurveyChannel.OPEN, unit__in=units).values_list(
            "unit_id", "device"
        )
    )
    for unit in units:
        mood = MOODS.get(unit.slug, DEFAULT_MOOD)
        # The past four quarters, each answered in its middle.
        for quarters_back in range(4):
            answered_at = now - dt.timedelta(days=45 + 91 * quarters_back)
            for number in range(mood.open_answers):
                scores, profile = _scores(rng, mood), _profile(rng)
                suggestion = _suggestion(rng)
                device = device_key(f"demo-{unit.pk}-{quarters_back}-{number}")
                if (unit.pk, device) in existing:
                    continue
                survey_response_submit(
                    unit=unit,
                    channel=SurveyChannel.OPEN,
                    device=device,
                    scores=scores,
                    profile=profile,
                    suggestion=suggestion,
                    now=answered_at,
                )
                created += 1
    return created
