"""Demo places: the public service mall of Kota Bandung hosting the counters of a city, a
provincial and a national agency; the mall of Kabupaten Sleman; two offices with
coordinates; facilities for vulnerable groups on several units; Saturday hours at the mall.

Built through the apps' service functions; idempotent (run twice: nothing new) and
SQLite-safe. Called by seed_demo after the registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.locations import counter_attach, location_create
from agencies.models import Agency, Counter, Location, Unit
from agencies.services import agency_create, unit_create, unit_update
from charter.services import charter_draft_create, charter_publish
from demo import data
from services.models import Service
from services.services import service_create, standard_draft_create, standard_publish

WEEKDAYS_8_TO_15 = {str(day): ["08:00", "15:00"] for day in range(5)}
WITH_SATURDAY = WEEKDAYS_8_TO_15 | {"5": ["08:00", "12:00"]}

# Agencies that serve only at the mall in the demo: a provincial and a national one.
MALL_AGENCIES: list[dict[str, Any]] = [
    {
        "slug": "bapenda-provinsi-jawa-barat",
        "name": "Badan Pendapatan Daerah Provinsi Jawa Barat",
        "short_name": "Bapenda Jabar",
        "level": "province",
        "region_code": "32",
        "region_name": "Jawa Barat",
        "address": "Jl. Soekarno-Hatta No. 528, Kota Bandung 40286",
        "head_name": "Dr. Asep Supriatna, M.Si.",
        "head_title": "Kepala Badan Pendapatan Daerah Provinsi Jawa Barat",
        "unit": {
            "slug": "samsat-mpp-bandung",
            "name": "Gerai Samsat Mal Pelayanan Publik Kota Bandung",
            "address": "Jl. Cianjur No. 34, Kota Bandung",
        },
        "service": data._svc(
            "pengesahan-stnk-tahunan",
            "Pengesahan STNK dan Pembayaran PKB Tahunan",
            "samsat-mpp-bandung",
            "transport",
            "samsat pajak kendaraan pkb stnk tahunan",
            1,
            "hours",
            ["KTP-el pemilik kendaraan", "STNK asli", "?BPKB asli"],
            "STNK yang disahkan dan bukti pembayaran PKB",
            ["Perda Provinsi Jawa Barat 9/2023 tentang Pajak Daerah dan Retribusi Daerah"],
            [{"kind": "phone", "value": "022-7560101"}, {"kind": "lapor", "value": "lapor.go.id"}],
            costs=[("Biaya pengesahan STNK", 25000, "PP 76/2020")],
        ),
    },
    {
        "slug": "kantor-imigrasi-bandung",
        "name": "Kantor Imigrasi Kelas I TPI Bandung",
        "short_name": "Kanim Bandung",
        "level": "national_agency",
        "region_code": "32.73",
        "region_name": "Jawa Barat",
        "address": "Jl. Surapati No. 82, Kota Bandung 40123",
        "head_name": "Yuldi Yusman",
        "head_title": "Kepala Kantor Imigrasi Kelas I TPI Bandung",
        "unit": {
            "slug": "paspor-mpp-bandung",
            "name": "Layanan Paspor Mal Pelayanan Publik Kota Bandung",
            "address": "Jl. Cianjur No. 34, Kota Bandung",
        },
        "service": data._svc(
            "paspor-biasa",
            "Penerbitan Paspor Biasa",
            "paspor-mpp-bandung",
            "other",
            "paspor passport imigrasi",
            4,
            "working_days",
            ["KTP-el", "Kartu Keluarga (KK)", "Akta kelahiran atau ijazah"],
            "Paspor biasa 48 halaman",
            ["PP 28/2019 tentang PNBP Kementerian Hukum dan HAM"],
            [
                {"kind": "web", "value": "https://www.imigrasi.go.id"},
                {"kind": "lapor", "value": "lapor.go.id"},
            ],
            costs=[("Paspor biasa 48 halaman (elektronik)", 650000, "PP 28/2019")],
        ),
    },
]

MALLS: list[dict[str, Any]] = [
    {
        "name": "Mal Pelayanan Publik Kota Bandung",
        "host": data.BANDUNG,
        "address": "Jl. Cianjur No. 34, Kacapiring, Batununggal, Kota Bandung 40271",
        "province": "Jawa Barat",
        "city": "Kota Bandung",
        "region_code": "32.73",
        "phone": "022-7271800",
        "latitude": "-6.911700",
        "longitude": "107.634400",
        "weekly_hours": WITH_SATURDAY,
        "facilities": [
            "ramp",
            "accessible_toilet",
            "priority_counter",
            "lactation_room",
            "children_area",
            "wheelchair",
        ],
        "facilities_note": "Parkir khusus penyandang disabilitas di depan pintu utama.",
        "counters": [
            (data.BANDUNG, "mpp-bandung", "Loket 1–3"),
            ("bapenda-provinsi-jawa-barat", "samsat-mpp-bandung", "Loket 10"),
            ("kantor-imigrasi-bandung", "paspor-mpp-bandung", "Loket 15"),
        ],
    },
    {
        "name": "Mal Pelayanan Publik Kabupaten Sleman",
        "host": data.SLEMAN,
        "address": "Jl. Parasamya No. 1, Beran, Tridadi, Sleman 55511",
        "province": "Daerah Istimewa Yogyakarta",
        "city": "Kabupaten Sleman",
        "region_code": "34.04",
        "latitude": "-7.715300",
        "longitude": "110.355100",
        "weekly_hours": WEEKDAYS_8_TO_15,
        "facilities": ["ramp", "priority_counter", "lactation_room"],
        "counters": [(data.SLEMAN, "perizinan-berusaha", "Loket Perizinan")],
    },
]

OFFICES: list[dict[str, Any]] = [
    {
        "name": "Kantor Disdukcapil Kota Bandung",
        "host": data.BANDUNG,
        "address": "Jl. Ambon No. 1B, Citarum, Bandung Wetan, Kota Bandung 40115",
        "province": "Jawa Barat",
        "city": "Kota Bandung",
        "latitude": "-6.908900",
        "longitude": "107.618100",
        "weekly_hours": WEEKDAYS_8_TO_15,
        "facilities": ["ramp", "priority_counter", "wheelchair"],
        "counters": [(data.BANDUNG, "kantor-dinas", "")],
    },
    {
        "name": "Kantor Pertanahan Kota Surabaya I",
        "host": data.SURABAYA,
        "address": "Jl. Taman Puspa Raya Blok D No. 3, Sambikerep, Surabaya 60217",
        "province": "Jawa Timur",
        "city": "Kota Surabaya",
        "latitude": "-7.263000",
        "longitude": "112.661000",
        "weekly_hours": WEEKDAYS_8_TO_15,
        "facilities": ["ramp", "accessible_toilet", "priority_counter"],
        "counters": [
            (data.SURABAYA, "loket-pelayanan", "Loket 1"),
            (data.SURABAYA, "loket-pengukuran", "Loket 4"),
        ],
    },
]

# Facilities of the units themselves, and the mall counter's Saturday hours.
UNIT_FACILITIES: list[tuple[str, str, list[str], dict[str, list[str]] | None]] = [
    (data.BANDUNG, "kantor-dinas", ["ramp", "priority_counter", "lactation_room"], None),
    (data.BANDUNG, "mpp-bandung", ["priority_counter", "lactation_room"], WITH_SATURDAY),
    (data.SLEMAN, "perizinan-berusaha", ["priority_counter", "children_area"], None),
    (data.SURABAYA, "loket-pelayanan", ["ramp", "accessible_toilet", "wheelchair"], None),
]


def _mall_agencies() -> int:
    created = 0
    for spec in MALL_AGENCIES:
        agency = Agency.objects.filter(slug=spec["slug"]).first()
        if agency is None:
            keys = (
                "short_name",
                "region_code",
                "region_name",
                "address",
                "head_name",
                "head_title",
            )
            fields = {k: spec[k] for k in keys}
            agency = agency_create(
                name=spec["name"], level=spec["level"], slug=spec["slug"], **fields
            )
            created += 1
        unit = Unit.objects.filter(agency=agency, slug=spec["unit"]["slug"]).first()
        if unit is None:
            unit = unit_create(agency=agency, weekly_hours=WITH_SATURDAY, **spec["unit"])
            created += 1
        svc = spec["service"]
        if not Service.objects.filter(agency=agency, slug=svc["slug"]).exists():
            service = service_create(
                agency=agency,
                unit=unit,
                name=svc["name"],
                slug=svc["slug"],
                category=svc["category"],
                keywords=svc["keywords"],
                channels=["counter"],
            )
            version = standard_draft_create(
                service=service,
                data={**svc["version"], "decree_number": f"SK/{agency.short_name}/2025"},
                children=svc["children"],
            )
            published_at = timezone.now() - dt.timedelta(days=60)
            standard_publish(
                version=version,
                acting_user=None,
                published_at=published_at,
                decree_date=(published_at - dt.timedelta(days=7)).date(),
                effective_date=published_at.date(),
            )
            created += 1
        if not unit.charters.exists():
            charter = charter_draft_create(
                unit=unit,
                services=unit.services.all(),
                signatory_name=agency.head_name,
                signatory_title=agency.head_title,
                signed_on=(timezone.now() - dt.timedelta(days=60)).date(),
            )
            charter_publish(charter=charter)
            created += 1
    return created


def _places(specs: list[dict[str, Any]], kind: str) -> int:
    created = 0
    for spec in specs:
        fields = {k: v for k, v in spec.items() if k not in {"name", "host", "counters"}}
        location = Location.objects.filter(name=spec["name"]).first()
        if location is None:
            location = location_create(
                host_agency=Agency.objects.get(slug=spec["host"]),
                name=spec["name"],
                kind=kind,
                **fields,
            )
            created += 1
        for agency_slug, unit_slug, label in spec["counters"]:
            unit = Unit.objects.get(agency__slug=agency_slug, slug=unit_slug)
            if not Counter.objects.filter(unit=unit, location=location).exists():
                counter_attach(unit=unit, location=location, label=label)
                created += 1
    return created


def seed_locations() -> int:
    """The demo's places, counters and facilities; the number of new objects."""
    created = _mall_agencies()
    created += _places(MALLS, "mpp")
    created += _places(OFFICES, "office")
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    for agency_slug, unit_slug, facilities, hours in UNIT_FACILITIES:
        unit = Unit.objects.filter(agency__slug=agency_slug, slug=unit_slug).first()
        if unit is None or unit.facilities or admin is None:
            continue
        changes: dict[str, Any] = {"facilities": facilities}
        if hours is not None:
            changes["weekly_hours"] = hours
        unit_update(unit=unit, acting_user=admin, **changes)
        created += 1
    return created
