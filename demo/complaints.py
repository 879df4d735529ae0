"""Demo complaints, in every state a complaint can be in, so that the staff pages, the
citizen's status page and the public figures have something to show.

Filed through `complaint_submit` and moved along through the complaint services (the
transitions table holds every step); demo requests are used where a complaint names one.
Each demo complaint has a fixed tracking code, so a re-run adds nothing (idempotent).
Works on SQLite (the `make run` default) as on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from PIL import Image

from agencies.models import Agency
from delivery.models import DeliveryStatus, ServiceDelivery
from feedback.complaints import services as complaints
from feedback.complaints.models import Complaint
from services.models import Service


@dataclass(frozen=True)
class _Plan:
    code: str
    agency: str
    handler: str
    steps: tuple[str, ...]
    category: str
    text: str
    days_ago: int
    anonymous: bool = True
    confidential: bool = True
    email: str = ""
    photo: bool = False


BANDUNG, SLEMAN, SURABAYA = (
    "disdukcapil-kota-bandung",
    "dpmptsp-kabupaten-sleman",
    "kantah-kota-surabaya-1",
)

PLANS: tuple[_Plan, ...] = (
    _Plan(
        "DEMQRECVD222",
        BANDUNG,
        "editor.bandung",
        (),
        "time",
        "Sudah tiga minggu KTP-el saya belum jadi, padahal dijanjikan 14 hari kerja.",
        1,
        photo=True,
    ),
    _Plan(
        "DEMQLATEV222",
        SLEMAN,
        "editor.sleman",
        (),
        "requirements",
        "Saya diminta surat keterangan RT yang tidak ada dalam standar pelayanan.",
        9,
    ),
    _Plan(
        "DEMQINFO2222",
        BANDUNG,
        "editor.bandung",
        ("ask",),
        "conduct",
        "Petugas loket berbicara kasar kepada ibu saya yang sudah lanjut usia.",
        3,
    ),
    _Plan(
        "DEMQVERFD222",
        SURABAYA,
        "editor.surabaya",
        ("verify",),
        "cost",
        "Diminta uang Rp100.000 untuk mempercepat pengukuran, tanpa kuitansi.",
        2,
        anonymous=True,
        confidential=False,
    ),
    _Plan(
        "DEMQFWRDD222",
        SLEMAN,
        "editor.sleman",
        ("verify", "forward"),
        "facilities",
        "Tidak ada ramp untuk kursi roda di pintu masuk kantor.",
        4,
        anonymous=False,
        confidential=False,
        email="warga.sleman@example.org",
    ),
    _Plan(
        "DEMQANSWR222",
        BANDUNG,
        "editor.bandung",
        ("verify", "forward", "answer"),
        "time",
        "Akta kelahiran anak saya terlambat seminggu dari janji.",
        12,
        anonymous=True,
        confidential=False,
    ),
    _Plan(
        "DEMQCLOSD222",
        SURABAYA,
        "editor.surabaya",
        ("verify", "forward", "answer", "close"),
        "refused",
        "Saya ditolak mendaftar karena datang pukul 14.00, padahal jam layanan sampai 15.00.",
        20,
        anonymous=False,
        confidential=True,
    ),
    _Plan(
        "DEMQREOPN222",
        SLEMAN,
        "editor.sleman",
        ("verify", "forward", "answer", "reopen"),
        "cost",
        "Saya dikenai biaya cetak Rp25.000, padahal layanan ini gratis.",
        15,
        anonymous=True,
        confidential=False,
    ),
    _Plan(
        "DEMQROUTE222",
        BANDUNG,
        "editor.bandung",
        ("route",),
        "other",
        "Sertifikat tanah saya belum terbit (ini urusan kantor pertanahan).",
        2,
    ),
    _Plan(
        "DEMQESCAL222",
        SURABAYA,
        "editor.surabaya",
        ("verify", "forward", "answer", "close", "ombudsman"),
        "conduct",
        "Petugas meminta saya datang lagi berkali-kali tanpa alasan jelas.",
        25,
    ),
)


def _photo() -> complaints.Upload:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 180, 170)).save(out, format="JPEG")
    data = out.getvalue()
    return complaints.Upload(io.BytesIO(data), len(data))


def _subject(agency: Agency) -> tuple[Service | None, ServiceDelivery | None]:
    delivery = (
        ServiceDelivery.objects.filter(agency=agency, status=DeliveryStatus.COMPLETED)
        .select_related("service", "unit")
        .order_by("-completed_at", "pk")
        .first()
    )
    service = Service.objects.filter(agency=agency).order_by("pk").first()
    return service, delivery


def _file(plan: _Plan, now: dt.datetime) -> Complaint | None:
    agency = Agency.objects.filter(slug=plan.agency).first()
    handler = get_user_model().objects.filter(username=plan.handler).first()
    if agency is None or handler is None:
        return None
    service, delivery = _subject(agency)
    if service is None:
        return None
    received = now - dt.timedelta(days=plan.days_ago)
    # A complaint about a request only where the request's date keeps it within 30 days.
    use_delivery = (
        delivery is not None
        and delivery.completed_at is not None
        and (timezone.localdate(received) - timezone.localdate(delivery.completed_at)).days
        in range(0, 30)
    )
    complaint = complaints.complaint_submit(
        category=plan.category,
        occurred_on=timezone.localdate(received) - dt.timedelta(days=1),
        description=plan.text,
        service=None if use_delivery else service,
        delivery=delivery if use_delivery else None,
        location="Loket utama",
        anonymous=plan.anonymous,
        confidential=plan.confidential,
        contact=complaints.Contact(name="Warga Demo", email=plan.email),
        files=[_photo()] if plan.photo else [],
        now=received,
    )
    Complaint.objects.filter(pk=complaint.pk).update(tracking_code=plan.code)
    complaint.tracking_code = plan.code
    step_at = received
    for step in plan.steps:
        step_at = min(step_at + dt.timedelta(days=1), now)
        if step == "ask":
            complaints.complaint_ask_info(
                complaint=complaint,
                actor=handler,
                question="Kapan tepatnya, dan di loket mana?",
                now=step_at,
            )
        elif step == "verify":
            complaints.complaint_verify(complaint=complaint, actor=handler, now=step_at)
        elif step == "forward":
            complaints.complaint_forward(
                complaint=complaint, actor=handler, public_text=plan.text, now=step_at
            )
        elif step == "answer":
            complaints.complaint_answer(
                complaint=complaint,
                actor=handler,
                answer="Terima kasih. Kami sudah menegur petugas dan memperbaiki prosedur.",
                now=step_at,
            )
        elif step == "close":
            complaints.complaint_close(complaint=complaint, actor=handler, now=step_at)
        elif step == "reopen":
            complaints.complaint_reopen(
                complaint=complaint, reason="Biaya belum dikembalikan.", now=step_at
            )
            # The handlers moderate the reason before the unit reads it.
            complaints.complaint_moderate_reopen(
                complaint=complaint,
                actor=handler,
                public_text="Biaya belum dikembalikan.",
                now=step_at,
            )
        elif step == "ombudsman":
            complaints.complaint_escalate(complaint=complaint, actor=None, now=step_at)
        elif step == "route":
            target = Agency.objects.exclude(pk=agency.pk).filter(slug=SURABAYA).first()
            if target is not None:
                complaints.complaint_route(
                    complaint=complaint, actor=handler, agency=target, now=step_at
                )
    return complaint


def seed_complaints(*, now: dt.datetime | None = None) -> int:
    """File the demo complaints that are missing. Returns how many were created."""
    now = now or timezone.now()
    existing = set(
        Complaint.objects.filter(tracking_code__in=[p.code for p in PLANS]).values_list(
            "tracking_code", flat=True
        )
    )
    created = 0
    for plan in PLANS:
        if plan.code in existing:
            continue
        with transaction.atomic():
            if _file(plan, now) is not None:
                created += 1
    return created
