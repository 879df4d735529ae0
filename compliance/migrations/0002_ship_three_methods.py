"""Ship the three generations of the Ombudsman's assessment as data (DOMAIN.md).

Every figure below is as DOMAIN.md gives it; what it says was not found is shipped as an
editable default with `sourced=False` (bands) or `weight_sourced=False` (dimensions), and
the method's page says so. Re-running is harmless (update_or_create on the codes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import migrations

D = Decimal

# (code, title_id, title_en, kind, computation, weight, count_expected)
INDICATORS: dict[str, tuple[str, str, str, str, str, str, int | None]] = {
    "standards_complete": (
        "standards_complete",
        "Standar pelayanan memuat 14 komponen",
        "Standards contain all 14 components",
        "computed",
        "standards_complete",
        "1",
        None,
    ),
    "standards_current": (
        "standards_current",
        "Standar pelayanan dievaluasi tepat waktu",
        "Standards reviewed on time",
        "computed",
        "standards_current",
        "1",
        None,
    ),
    "charter_in_force": (
        "charter_in_force",
        "Maklumat pelayanan berlaku di setiap unit",
        "A charter in force in every unit",
        "computed",
        "charter_in_force",
        "1",
        None,
    ),
    "on_time_rate": (
        "on_time_rate",
        "Permohonan selesai sesuai jangka waktu yang dijanjikan",
        "Requests completed within the promised time",
        "computed",
        "on_time_rate",
        "1",
        None,
    ),
    "no_overcharge": (
        "no_overcharge",
        "Permohonan tanpa biaya melebihi tarif",
        "Requests without an overcharge",
        "computed",
        "no_overcharge",
        "1",
        None,
    ),
    "skm_index": (
        "skm_index",
        "Indeks Kepuasan Masyarakat (nilai konversi)",
        "Satisfaction index (converted)",
        "computed",
        "skm_index",
        "1",
        None,
    ),
    "complaint_handling_time": (
        "complaint_handling_time",
        "Pengaduan ditindaklanjuti tepat waktu",
        "Complaints followed up on time",
        "computed",
        "complaint_handling_time",
        "1",
        None,
    ),
    "corrective_actions_on_time": (
        "corrective_actions_on_time",
        "Tindakan korektif, saran dan rekomendasi Ombudsman dilaksanakan tepat waktu",
        "The Ombudsman's corrective actions, suggestions and recommendations done on time",
        "computed",
        "corrective_actions_on_time",
        "1",
        None,
    ),
    "officers_know_standard": (
        "officers_know_standard",
        "Petugas memahami 14 komponen standar pelayanan dan maladministrasi",
        "Officers know the 14 components and what maladministration is",
        "checklist",
        "",
        "1",
        None,
    ),
    "internal_supervision": (
        "internal_supervision",
        "Pengawasan internal",
        "Internal supervision",
        "checklist",
        "",
        "1",
        None,
    ),
    "staffing_workload": (
        "staffing_workload",
        "Jumlah pelaksana sesuai analisis beban kerja",
        "Staffing against the workload analysis",
        "checklist",
        "",
        "1",
        None,
    ),
    "compensation_available": (
        "compensation_available",
        "Kompensasi pelayanan tersedia",
        "Compensation available",
        "checklist",
        "",
        "1",
        None,
    ),
    "vulnerable_groups": (
        "vulnerable_groups",
        "Pelayanan bagi kelompok rentan (penyandang disabilitas, lansia, ibu hamil, anak)",
        "Service for vulnerable groups (disabled, elderly, pregnant women, children)",
        "checklist",
        "",
        "1",
        None,
    ),
    "standard_displayed": (
        "standard_displayed",
        "Standar pelayanan dan maklumat pelayanan dipajang",
        "The standard and the charter displayed",
        "checklist",
        "",
        "1",
        None,
    ),
    "officer_interviews": (
        "officer_interviews",
        "Wawancara petugas (4 per unit): menjawab dengan benar",
        "Officers interviewed (4 per unit): answered correctly",
        "count",
        "",
        "1",
        4,
    ),
    "user_interviews": (
        "user_interviews",
        "Wawancara pengguna layanan (30): tidak mengalami maladministrasi",
        "Service users interviewed (30): met no maladministration",
        "count",
        "",
        "1",
        30,
    ),
    "user_trust_interviews": (
        "user_trust_interviews",
        "Wawancara pengguna layanan (30): percaya pada pelayanan",
        "Service users interviewed (30): trust the service",
        "count",
        "",
        "1",
        30,
    ),
    "complaint_officer_interviews": (
        "complaint_officer_interviews",
        "Wawancara petugas pengaduan (2): menjawab dengan benar",
        "Complaint officers interviewed (2): answered correctly",
        "count",
        "",
        "1",
        2,
    ),
}

FOUR_DIMENSIONS = [
    (
        "input",
        "Dimensi input",
        "Input",
        "Kompetensi pelaksana, sarana dan prasarana.",
        "Staff competence, facilities.",
        ["officers_know_standard", "staffing_workload", "vulnerable_groups", "officer_interviews"],
    ),
    (
        "process",
        "Dimensi proses",
        "Process",
        "Kepatuhan terhadap standar pelayanan, termasuk maklumat pelayanan.",
        "Compliance with the standard, the charter included.",
        [
            "standards_complete",
            "standards_current",
            "charter_in_force",
            "standard_displayed",
            "internal_supervision",
            "compensation_available",
        ],
    ),
    (
        "output",
        "Dimensi output",
        "Output",
        "Persepsi pengguna layanan atas maladministrasi.",
        "Users' perception of maladministration.",
        ["user_interviews", "on_time_rate", "no_overcharge", "skm_index"],
    ),
    (
        "complaints",
        "Dimensi pengelolaan pengaduan",
        "Complaint handling",
        "Pengelolaan pengaduan.",
        "Complaint handling.",
        ["complaint_officer_interviews", "complaint_handling_time"],
    ),
]

# The 2023 weights (DOMAIN.md): 21.85 + 32.37 + 24.24 + 21.54 = 100.
WEIGHTS_2023 = {"input": "21.85", "process": "32.37", "output": "24.24", "complaints": "21.54"}

MISSING_NOTE_ID = (
    "Indikator yang datanya belum ada tidak dihitung: bobot indikator lain dalam dimensinya "
    "(dan dimensi lain yang berdata) dinaikkan sebanding hingga jumlahnya, dan cakupan "
    "(bagian bobot yang berdata) ditampilkan di samping nilai."
)
MISSING_NOTE_EN = (
    "An indicator without data yet is left out: the weights of the other indicators in its "
    "dimension (and of the other dimensions with data) are scaled up in proportion, and the "
    "coverage (the share of the weight with data) is shown beside the score."
)

METHODS: list[dict[str, Any]] = [
    {
        "code": "kepatuhan-2021",
        "version": 1,
        "title_id": "Penilaian Kepatuhan terhadap Standar Pelayanan Publik 2021",
        "title_en": "Compliance with public service standards, 2021",
        "year_from": 2021,
        "year_to": 2021,
        "basis": "UU 25/2009; Ombudsman RI, penilaian kepatuhan 2021 (zona).",
        "notes_id": (
            "Zona dari sumber: hijau (kepatuhan tinggi) 81,00-100, kuning (sedang) "
            "51,00-80,99, merah (rendah) 0-50,99. Daftar indikator dan bobotnya yang sama "
            "tidak ditemukan di sumber: ini bawaan yang dapat diubah. " + MISSING_NOTE_ID
        ),
        "notes_en": (
            "Zones from the sources: green (high compliance) 81.00-100, yellow (medium) "
            "51.00-80.99, red (low) 0-50.99. The list of indicators and their equal weights "
            "were not found in the sources: they are editable defaults. " + MISSING_NOTE_EN
        ),
        "dimensions": [
            (
                "compliance",
                "Kepatuhan terhadap standar pelayanan",
                "Compliance with the service standard",
                "Pemenuhan komponen standar pelayanan (UU 25/2009 Pasal 21) dan maklumat.",
                "The components of the standard (UU 25/2009 art. 21) and the charter.",
                "100",
                True,
                [
                    "standards_complete",
                    "standards_current",
                    "charter_in_force",
                    "standard_displayed",
                    "officers_know_standard",
                    "internal_supervision",
                    "compensation_available",
                    "vulnerable_groups",
                ],
            )
        ],
        "bands": [
            ("grade", "81.00", "", "green", "Kepatuhan tinggi", "High compliance", True),
            ("grade", "51.00", "", "yellow", "Kepatuhan sedang", "Medium compliance", True),
            ("grade", "0.00", "", "red", "Kepatuhan rendah", "Low compliance", True),
        ],
    },
    {
        "code": "kepatuhan-2022",
        "version": 1,
        "title_id": "Penilaian Kepatuhan Penyelenggaraan Pelayanan Publik 2022-2024",
        "title_en": "Compliance of public service delivery, 2022-2024",
        "year_from": 2022,
        "year_to": 2024,
        "basis": (
            "Ombudsman RI, Penilaian Kepatuhan Penyelenggaraan Pelayanan Publik; bobot 2023. "
            "2024: 587 entitas dinilai (A 337, B 157, C 70, D 14, E 9)."
        ),
        "notes_id": (
            "Bobot dimensi tahun 2023 dari sumber: input 21,85%, proses 32,37%, output 24,24%, "
            "pengelolaan pengaduan 21,54%. Dari sumber: A (kualitas tertinggi) 88,00-100 dan "
            "B (tinggi) 78,00-87,99, keduanya zona hijau; C (sedang) kuning; D dan E merah. "
            "Batas bawah resmi C, D dan E tidak ditemukan: 66,00 (C) dan 51,00 (D) adalah "
            "bawaan yang dapat diubah, begitu pula label D dan E. Indikator dalam tiap "
            "dimensi dan bobotnya yang sama adalah bawaan yang dapat diubah. " + MISSING_NOTE_ID
        ),
        "notes_en": (
            "The 2023 dimension weights from the sources: input 21.85%, process 32.37%, "
            "output 24.24%, complaint handling 21.54%. From the sources: A (highest quality) "
            "88.00-100 and B (high) 78.00-87.99, both green; C (medium) yellow; D and E red. "
            "The official lower cut-offs of C, D and E were not found: 66.00 (C) and 51.00 (D) "
            "are editable defaults, and so are the labels of D and E. The indicators within "
            "each dimension and their equal weights are editable defaults. " + MISSING_NOTE_EN
        ),
        "dimensions": [(*dim[:5], WEIGHTS_2023[dim[0]], True, dim[5]) for dim in FOUR_DIMENSIONS],
        "bands": [
            ("grade", "88.00", "A", "green", "Kualitas tertinggi", "Highest quality", True),
            ("grade", "78.00", "B", "green", "Kualitas tinggi", "High quality", True),
            ("grade", "66.00", "C", "yellow", "Kualitas sedang", "Medium quality", False),
            ("grade", "51.00", "D", "red", "Kualitas rendah", "Low quality", False),
            ("grade", "0.00", "E", "red", "Kualitas terendah", "Lowest quality", False),
        ],
    },
    {
        "code": "opini-2025",
        "version": 1,
        "title_id": "Opini Ombudsman RI",
        "title_en": "Opinion of the Ombudsman of the Republic of Indonesia",
        "year_from": 2025,
        "year_to": None,
        "basis": "Peraturan Ombudsman 61/2025 (menggantikan Perom 22/2016).",
        "notes_id": (
            "Dari sumber: empat dimensi berbobot 70%, kepercayaan publik 30%; kepatuhan atas "
            "tindakan korektif, saran dan rekomendasi Ombudsman ikut dinilai; opini tertinggi "
            "\u201cOpini Kualitas Tertinggi Tanpa Maladministrasi\u201d; setiap hasil memuat zona "
            "dan label potensi maladministrasi tersendiri. Pembagian 70% di antara keempat "
            "dimensi tidak ditemukan: bawaannya mengikuti bobot 2023 dikali 0,7 (input 15,295; "
            "proses 22,659; output 16,968; pengaduan 15,078). Kepatuhan atas tindakan korektif "
            "dihitung sebagai indikator dalam dimensi pengelolaan pengaduan (bawaan). Semua "
            "batas nilai opini dan potensi maladministrasi, serta label selain opini "
            "tertinggi, tidak ditemukan: bawaan yang dapat diubah. " + MISSING_NOTE_ID
        ),
        "notes_en": (
            "From the sources: the four dimensions weigh 70%, public trust 30%; compliance "
            "with the Ombudsman's corrective actions, suggestions and recommendations is "
            "scored; the top opinion is \u201cOpini Kualitas Tertinggi Tanpa Maladministrasi\u201d; each "
            "result carries a zone and a separate maladministration-potential label. The split "
            "of the 70% among the four dimensions was not found: the default follows the 2023 "
            "weights times 0.7 (input 15.295, process 22.659, output 16.968, complaints "
            "15.078). Compliance with corrective actions is an indicator of the complaint-"
            "handling dimension (a default). Every cut-off of the opinion and of the "
            "maladministration potential, and every label but the top opinion's, was not "
            "found: they are editable defaults. " + MISSING_NOTE_EN
        ),
        "dimensions": [
            *[
                (
                    *dim[:5],
                    str(D(WEIGHTS_2023[dim[0]]) * D("0.7")),
                    False,
                    [*dim[5], "corrective_actions_on_time"] if dim[0] == "complaints" else dim[5],
                )
                for dim in FOUR_DIMENSIONS
            ],
            (
                "public_trust",
                "Kepercayaan publik",
                "Public trust",
                "Kepercayaan masyarakat pada pelayanan.",
                "The public's trust in the service.",
                "30",
                True,
                ["skm_index", "user_trust_interviews"],
            ),
        ],
        "bands": [
            (
                "grade",
                "88.00",
                "A",
                "green",
                "Opini Kualitas Tertinggi Tanpa Maladministrasi",
                "Highest quality, without maladministration",
                False,
            ),
            ("grade", "78.00", "B", "green", "Opini Kualitas Tinggi", "High quality", False),
            ("grade", "66.00", "C", "yellow", "Opini Kualitas Sedang", "Medium quality", False),
            ("grade", "51.00", "D", "red", "Opini Kualitas Rendah", "Low quality", False),
            ("grade", "0.00", "E", "red", "Opini Kualitas Terendah", "Lowest quality", False),
            (
                "potential",
                "81.00",
                "",
                "green",
                "Potensi maladministrasi rendah",
                "Low maladministration potential",
                False,
            ),
            (
                "potential",
                "51.00",
                "",
                "yellow",
                "Potensi maladministrasi sedang",
                "Medium maladministration potential",
                False,
            ),
            (
                "potential",
                "0.00",
                "",
                "red",
                "Potensi maladministrasi tinggi",
                "High maladministration potential",
                False,
            ),
        ],
    },
]


def ship(apps: Any, schema_editor: Any) -> None:
    Method = apps.get_model("compliance", "AssessmentMethod")
    Dimension = apps.get_model("compliance", "Dimension")
    Indicator = apps.get_model("compliance", "Indicator")
    Band = apps.get_model("compliance", "Band")
    for data in METHODS:
        method, _ = Method.objects.update_or_create(
            code=data["code"],
            defaults={
                key: data[key]
                for key in (
                    "version",
                    "title_id",
                    "title_en",
                    "year_from",
                    "year_to",
                    "basis",
                    "notes_id",
                    "notes_en",
                )
            },
        )
        for position, dim in enumerate(data["dimensions"]):
            code, title_id, title_en, desc_id, desc_en, weight, sourced, indicators = dim
            dimension, _ = Dimension.objects.update_or_create(
                method=method,
                code=code,
                defaults={
                    "position": position,
                    "title_id": title_id,
                    "title_en": title_en,
                    "description_id": desc_id,
                    "description_en": desc_en,
                    "weight": D(weight),
                    "weight_sourced": sourced,
                },
            )
            for i_position, key in enumerate(indicators):
                i_code, i_title_id, i_title_en, kind, computation, i_weight, expected = INDICATORS[
                    key
                ]
                Indicator.objects.update_or_create(
                    dimension=dimension,
                    code=i_code,
                    defaults={
                        "position": i_position,
                        "title_id": i_title_id,
                        "title_en": i_title_en,
                        "kind": kind,
                        "computation": computation,
                        "weight": D(i_weight),
                        "count_expected": expected,
                    },
                )
        for scale, lower, grade, zone, label_id, label_en, sourced in data["bands"]:
            Band.objects.update_or_create(
                method=method,
                scale=scale,
                lower=D(lower),
                defaults={
                    "grade": grade,
                    "zone": zone,
                    "label_id": label_id,
                    "label_en": label_en,
                    "sourced": sourced,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_methods_and_assessments")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
