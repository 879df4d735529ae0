"""Demo life events: the birth of a child (Disdukcapil Kota Bandung) and starting a small
business (DPMPTSP Kabupaten Sleman), curated by a national curator. Idempotent: an event
that exists (by its slug) is left as it is."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from agencies.models import Role
from agencies.services import membership_grant
from demo import data
from lifeevents.models import LifeEvent, LifeEventStep
from lifeevents.services import life_event_create, life_event_publish, life_event_step_add
from services.models import Service

CURATOR = {"username": "kurator", "first_name": "Dimas", "last_name": "Aditya"}

# (slug, kind, title, description, steps): each step is (agency slug, service slug, note,
# the positions (1-based) of the earlier steps it needs).
EVENTS: list[tuple[str, str, str, str, list[tuple[str, str, str, tuple[int, ...]]]]] = [
    (
        "kelahiran-anak",
        "life",
        "Kelahiran anak",
        "Dokumen kependudukan untuk bayi yang baru lahir: akta kelahiran, lalu Kartu Keluarga "
        "yang mencantumkan anak, lalu Kartu Identitas Anak (KIA).",
        [
            (
                data.BANDUNG,
                "akta-kelahiran",
                "Menghasilkan akta kelahiran, syarat untuk memperbarui Kartu Keluarga.",
                (),
            ),
            (
                data.BANDUNG,
                "perubahan-kk",
                "Menambahkan anak ke Kartu Keluarga; KK baru menjadi syarat KIA.",
                (1,),
            ),
            (data.BANDUNG, "kia", "Kartu Identitas Anak untuk anak di bawah 17 tahun.", (1, 2)),
        ],
    ),
    (
        "memulai-usaha-kecil",
        "business",
        "Memulai usaha kecil",
        "Izin dasar untuk usaha mikro atau kecil: Nomor Induk Berusaha (NIB) lebih dulu, "
        "lalu izin usaha dan izin reklame papan nama, yang dapat diurus bersamaan.",
        [
            (data.SLEMAN, "nib", "NIB menjadi identitas usaha untuk izin berikutnya.", ()),
            (data.SLEMAN, "izin-usaha-mikro", "Izin usaha mikro dan kecil (IUMK).", (1,)),
            (data.SLEMAN, "izin-reklame", "Papan nama usaha; dapat diurus bersamaan.", (1,)),
        ],
    ),
]


def _curator() -> Any:
    user_model = get_user_model()
    user = user_model.objects.filter(username=CURATOR["username"]).first()
    if user is None:
        user = user_model.objects.create_user(
            username=CURATOR["username"],
            email=f"{CURATOR['username']}@demo.maklumat.local",
            password=data.DEMO_PASSWORD,
            first_name=CURATOR["first_name"],
            last_name=CURATOR["last_name"],
        )
    membership_grant(user=user, role=Role.CURATOR)
    return user


@transaction.atomic
def seed_life_events() -> int:
    """Create the demo journeys that are missing; returns how many were created."""
    curator = _curator()
    created = 0
    for slug, kind, title, description, steps in EVENTS:
        if LifeEvent.objects.filter(slug=slug).exists():
            continue
        services = [
            Service.objects.filter(agency__slug=agency, slug=service).first()
            for agency, service, _note, _needs in steps
        ]
        if any(service is None for service in services):
            continue  # the registry is not seeded (or not fully): nothing to curate yet
        event = life_event_create(
            kind=kind, title=title, slug=slug, description=description, acting_user=curator
        )
        added: list[LifeEventStep] = []
        for service, (_agency, _slug, note, needs) in zip(services, steps, strict=True):
            assert service is not None
            added.append(
                life_event_step_add(
                    event=event,
                    service=service,
                    note=note,
                    depends_on=[added[n - 1] for n in needs],
                    acting_user=curator,
                )
            )
        life_event_publish(event=event, acting_user=curator)
        created += 1
    return created
