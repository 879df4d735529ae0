"""Demo ombudsman cases: the desk holds breaches, and cases stand in every state of the
flow, with findings, corrective actions done on time and late, and one recommendation.

Built only through the apps' own functions (the sweep finds the breaches of the demo's late
requests; `cases.services` opens and moves the cases, with `now` set in the past where a
deadline must have passed). Idempotent: each scenario's case has a fixed title and is
skipped when it exists; breaches already on the desk are not pulled in again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Membership, Role
from cases import services
from cases.models import Case, CaseBreach, CorrectiveAction
from oversight.desk import breach_pull_in
from oversight.models import Breach, BreachStatus
from oversight.sweep import sweep

TAG = "[Demo]"
KINDS = ("late_delivery", "overdue_open", "overcharge", "service_level_miss")
DESK_PULLED = 12
FINDING = {
    "outcome": "found",
    "categories": ["undue_delay"],
    "summary": (
        "Penyelesaian permohonan melampaui jangka waktu dalam standar pelayanan tanpa "
        "pemberitahuan perpanjangan: penundaan berlarut."
    ),
}


def _actor_of(agency_id: int) -> Any:
    membership = (
        Membership.objects.filter(
            agency_id=agency_id, unit__isnull=True, role__in=[Role.EDITOR, Role.APPROVER]
        )
        .select_related("user")
        .order_by("role", "pk")
        .first()
    )
    return membership.user if membership else None


def _go(case: Case, steps: list[tuple[str, Any, dict[str, Any]]]) -> Case:
    for action, actor, data in steps:
        case = services.case_transition(case, action, actor, **data)
    return case


def _request(case: Case, agency_user: Any) -> int:
    return int(case.requests.order_by("-pk").values_list("pk", flat=True)[0])


def seed_cases() -> int:
    """Cases in every state; returns how many were opened."""
    reviewer = get_user_model().objects.filter(memberships__role=Role.OMBUDSMAN).first()
    if reviewer is None:
        return 0
    if not Breach.objects.filter(kind__in=KINDS).exists():
        sweep()  # the demo's late requests become breaches, as in production
    free = (
        Breach.objects.filter(kind__in=KINDS)
        .exclude(status__in=[BreachStatus.RESOLVED, BreachStatus.DISMISSED])
        .exclude(pk__in=CaseBreach.objects.values("breach_id"))
        .order_by("unit_id", "occurred_at", "pk")
        .values_list("pk", "unit_id", "agency_id")
    )
    by_unit: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, unit_id, agency_id in free[:2000]:
        by_unit[unit_id].append((pk, agency_id))
    pools = [rows for rows in by_unit.values() if _actor_of(rows[0][1]) is not None]
    if not pools:
        return 0
    now = timezone.now()
    ago: Callable[[int], dt.datetime] = lambda days: now - dt.timedelta(days=days)  # noqa: E731
    opened = 0
    for index, (title, scenario) in enumerate(SCENARIOS):
        full_title = f"{TAG} {title}"
        if Case.objects.filter(title=full_title).exists():
            continue
        # The scenario's own pool, or the next one with breaches left: a scenario skipped
        # on one run would be opened by the next, and seeding would not be idempotent.
        pool = next(
            (
                pools[(index + k) % len(pools)]
                for k in range(len(pools))
                if pools[(index + k) % len(pools)]
            ),
            None,
        )
        if pool is None:
            break
        take = [pool.pop(0) for _ in range(min(2, len(pool)))]
        agency_user = _actor_of(take[0][1])
        case = services.case_open(
            breach_ids=[pk for pk, _agency in take],
            acting_user=reviewer,
            title=full_title,
            now=ago(120),
        )
        scenario(case, reviewer, agency_user, ago)
        opened += 1
    _fill_desk(reviewer)
    return opened


def _fill_desk(reviewer: Any) -> None:
    """A few more breaches on the review desk, as a reviewer would pull them in."""
    waiting = (
        Breach.objects.filter(kind__in=KINDS, on_desk_at__isnull=True, status=BreachStatus.OPEN)
        .exclude(pk__in=CaseBreach.objects.values("breach_id"))
        .order_by("-occurred_at")[:DESK_PULLED]
    )
    for breach in waiting:
        breach_pull_in(breach=breach, acting_user=reviewer, text="Demo")


# --- The scenarios: one case per state (and the actions' variants) --------------------------

Ago = Callable[[int], dt.datetime]


def _registered(case: Case, r: Any, a: Any, ago: Ago) -> None:
    services.case_note_add(case=case, acting_user=r, text="Perlu dicek apakah ada perpanjangan.")


def _verification(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(case, [("verify", r, {"now": ago(2)})])


def _awaiting_info(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(
        case,
        [
            ("verify", r, {"now": ago(10)}),
            ("request_info", r, {"text": "Mohon lengkapi bukti pengajuan.", "now": ago(9)}),
        ],
    )


def _examination_urgent(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(
        case,
        [
            ("fast_track", r, {"text": "Respons Cepat Ombudsman", "now": ago(3)}),
            (
                "request_explanation",
                r,
                {"text": "Mengapa permohonan belum selesai?", "now": ago(2)},
            ),
        ],
    )


def _examination_answered(case: Case, r: Any, a: Any, ago: Ago) -> None:
    case = _go(
        case,
        [
            ("verify", r, {"now": ago(30)}),
            ("accept", r, {"now": ago(28)}),
            ("request_explanation", r, {"text": "Jelaskan keterlambatan ini.", "now": ago(27)}),
        ],
    )
    _go(
        case,
        [
            (
                "answer_explanation",
                a,
                {
                    "request_id": _request(case, a),
                    "text": "Sistem antrean berkas terganggu selama dua minggu.",
                    "now": ago(20),
                },
            )
        ],
    )


def _draft(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(
        case,
        [
            ("verify", r, {"now": ago(40)}),
            ("accept", r, {"now": ago(39)}),
            (
                "issue_draft",
                r,
                {**FINDING, "actions": [("Terbitkan SOP antrean berkas", None)], "now": ago(5)},
            ),
            ("respond_draft", a, {"text": "Kami menerima temuan ini.", "now": ago(3)}),
        ],
    )


def _final_not_found(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(
        case,
        [
            ("verify", r, {"now": ago(60)}),
            ("accept", r, {"now": ago(58)}),
            (
                "issue_draft",
                r,
                {
                    "outcome": "not_found",
                    "summary": "Perpanjangan waktu telah diberitahukan sesuai standar.",
                    "now": ago(30),
                },
            ),
            ("finalise", r, {"now": ago(10)}),
        ],
    )


def _stopped(case: Case, r: Any, a: Any, ago: Ago) -> None:
    _go(
        case,
        [
            ("verify", r, {"now": ago(50)}),
            ("stop", r, {"text": "Pelapor mencabut laporannya.", "now": ago(45)}),
            ("close", r, {"now": ago(44)}),
        ],
    )


def _monitoring(case: Case, r: Any, a: Any, ago: Ago) -> None:
    """Three actions: one done on time and accepted, one done late and accepted, one ignored
    past its deadline and raised to a recommendation."""
    case = _go(
        case,
        [
            ("verify", r, {"now": ago(115)}),
            ("accept", r, {"now": ago(114)}),
            ("request_explanation", r, {"text": "Mohon penjelasan.", "now": ago(113)}),
        ],
    )
    case = _go(
        case,
        [
            (
                "answer_explanation",
                a,
                {"request_id": _request(case, a), "text": "Petugas cuti.", "now": ago(110)},
            ),
            (
                "issue_draft",
                r,
                {
                    **FINDING,
                    "actions": [
                        ("Tambah petugas loket pada jam sibuk", None),
                        ("Umumkan perpanjangan waktu kepada pemohon", 10),
                        ("Bayar kompensasi sesuai maklumat", 20),
                    ],
                    "now": ago(105),
                },
            ),
            ("finalise", r, {"now": ago(90)}),
            ("monitor", r, {"now": ago(90)}),
        ],
    )
    on_time, late, ignored = CorrectiveAction.objects.filter(finding__case=case).order_by("pk")
    steps: list[tuple[str, Any, dict[str, Any]]] = [
        (
            "report_action",
            a,
            {
                "action_id": on_time.pk,
                "text": "Dua petugas ditambah.",
                "done": True,
                "now": ago(70),
            },
        ),
        ("accept_action", r, {"action_id": on_time.pk, "now": ago(68)}),
        (
            "report_action",
            a,
            {"action_id": late.pk, "text": "Pengumuman dipasang.", "done": True, "now": ago(40)},
        ),
        ("accept_action", r, {"action_id": late.pk, "now": ago(39)}),
        (
            "raise_recommendation",
            r,
            {
                "action_id": ignored.pk,
                "text": "Bayar kompensasi dalam 60 hari kerja.",
                "now": ago(20),
            },
        ),
    ]
    _go(case, steps)


def _closed(case: Case, r: Any, a: Any, ago: Ago) -> None:
    case = _go(
        case,
        [
            ("fast_track", r, {"now": ago(100)}),
            (
                "issue_draft",
                r,
                {**FINDING, "actions": [("Perbaiki papan informasi", 15)], "now": ago(95)},
            ),
            ("finalise", r, {"now": ago(80)}),
            ("monitor", r, {"now": ago(80)}),
        ],
    )
    action = CorrectiveAction.objects.get(finding__case=case)
    _go(
        case,
        [
            (
                "report_action",
                a,
                {"action_id": action.pk, "text": "Papan diganti.", "done": True, "now": ago(75)},
            ),
            ("accept_action", r, {"action_id": action.pk, "now": ago(74)}),
            ("close", r, {"now": ago(70)}),
        ],
    )


def _monitoring_open(case: Case, r: Any, a: Any, ago: Ago) -> None:
    """Monitoring, an action reported done and waiting for the reviewer, another still open."""
    case = _go(
        case,
        [
            ("fast_track", r, {"now": ago(30)}),
            (
                "issue_draft",
                r,
                {
                    **FINDING,
                    "actions": [("Pasang jadwal layanan", None), ("Latih petugas", None)],
                    "now": ago(25),
                },
            ),
            ("finalise", r, {"now": ago(12)}),
            ("monitor", r, {"now": ago(12)}),
        ],
    )
    first = CorrectiveAction.objects.filter(finding__case=case).order_by("pk").first()
    assert first is not None
    _go(
        case,
        [
            (
                "report_action",
                a,
                {"action_id": first.pk, "text": "Jadwal dipasang.", "done": True, "now": ago(2)},
            )
        ],
    )


SCENARIOS: list[tuple[str, Callable[[Case, Any, Any, Ago], None]]] = [
    ("Keterlambatan baru diterima", _registered),
    ("Dalam verifikasi", _verification),
    ("Menunggu kelengkapan laporan", _awaiting_info),
    ("Respons cepat: permohonan tertahan", _examination_urgent),
    ("Pemeriksaan: penjelasan diterima", _examination_answered),
    ("Rancangan temuan", _draft),
    ("Tidak ditemukan maladministrasi", _final_not_found),
    ("Pemeriksaan dihentikan", _stopped),
    ("Pemantauan tindakan korektif dan rekomendasi", _monitoring),
    ("Pemantauan: laporan menunggu penilaian", _monitoring_open),
    ("Selesai: tindakan korektif tepat waktu", _closed),
]
