"""Demo answers to survey suggestions and follow-up plans, so that the units' SKM pages
show a share of suggestions answered and their printed reports the follow-up planned.

Run after demo.surveys. Deterministic and idempotent: about two suggestions in three of
each closed period are answered (chosen by the response's id, only where none is yet),
and each unit's closed periods get a follow-up plan naming its lowest element once.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from agencies.models import Unit
from feedback.models import SkmFollowUp, SurveyResponse
from feedback.periods import period_of
from feedback.selectors import skm_periods
from feedback.services import skm_follow_up_save, suggestion_answer

ANSWERS = {
    "kursi": "Kursi ruang tunggu ditambah 20 buah pada bulan ini.",
    "ramah": "Terima kasih, masukan Anda kami sampaikan kepada petugas.",
    "persyaratan": "Papan informasi persyaratan di loket sudah diperbarui.",
    "Antrean": "Loket tambahan dibuka pukul 08.00-10.00 pada hari kerja.",
    "pesan": "Status permohonan kini dapat dilacak di halaman pelacakan.",
    "Parkir": "Kami berkoordinasi dengan pengelola gedung untuk lahan parkir tambahan.",
}
DEFAULT_ANSWER = "Terima kasih atas sarannya; kami tindak lanjuti pada triwulan berikut."


def _answer_for(text: str) -> str:
    return next((answer for key, answer in ANSWERS.items() if key in text), DEFAULT_ANSWER)


@transaction.atomic
def seed_skm_follow_up() -> int:
    """Answer suggestions and write follow-up plans; returns how many rows changed."""
    current = period_of(timezone.localdate())
    changed = 0
    unanswered = (
        SurveyResponse.objects.exclude(suggestion="")
        .filter(suggestion_answered_at__isnull=True, period__lt=current)
        .order_by("pk")
    )
    for response in unanswered.iterator():
        if response.pk % 3 != 0:
            suggestion_answer(
                response=response, actor=None, answer=_answer_for(response.suggestion)
            )
            changed += 1
    planned = set(SkmFollowUp.objects.values_list("unit_id", "period"))
    units = Unit.objects.filter(survey_responses__isnull=False).distinct().order_by("pk")
    for unit in units:
        for figures in skm_periods(unit=unit):
            if figures.period >= current or (unit.pk, figures.period) in planned:
                continue
            lowest = [row.element for row in figures.elements if row.lowest]
            names = ", ".join(str(element.name) for element in lowest) or "-"
            skm_follow_up_save(
                unit=unit,
                period=figures.period,
                plan=(
                    f"Unsur terendah periode {figures.period}: {names}. Rapat evaluasi "
                    "bersama petugas loket pada awal triwulan berikut, perbaikan alur dan "
                    "informasi pelayanan, dan pemantauan hasilnya pada survei berikutnya."
                ),
                actor=None,
            )
            changed += 1
    return changed
