"""The 14 components of a service standard and how complete a version is.

UU 25/2009 Pasal 21; PermenPANRB 15/2014. Components 1-6 are what the citizen
meets (service delivery); 7-14 are internal management.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from services.models import StandardVersion


@dataclass(frozen=True)
class Component:
    number: int
    key: str
    label: Promise
    indonesian: str
    is_present: Callable[[StandardVersion], bool]


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


# Prefetched relations are read with .all() so a list of versions costs no extra queries.
COMPONENTS: tuple[Component, ...] = (
    Component(
        1, "requirements", _("Requirements"), "Persyaratan", lambda v: len(v.requirements.all()) > 0
    ),
    Component(
        2,
        "procedure",
        _("System, mechanism and procedure"),
        "Sistem, mekanisme dan prosedur",
        lambda v: len(v.steps.all()) > 0,
    ),
    Component(
        3,
        "processing_time",
        _("Processing time"),
        "Jangka waktu penyelesaian",
        lambda v: bool(v.processing_time_value),
    ),
    Component(
        4,
        "cost",
        _("Cost/tariff"),
        "Biaya/tarif",
        lambda v: v.is_free or len(v.cost_items.all()) > 0,
    ),
    Component(5, "product", _("Service product"), "Produk pelayanan", lambda v: _has(v.product)),
    Component(
        6,
        "complaints",
        _("Handling of complaints, suggestions and feedback"),
        "Penanganan pengaduan, saran dan masukan",
        lambda v: len(v.complaint_channels.all()) > 0,
    ),
    Component(
        7,
        "legal_basis",
        _("Legal basis"),
        "Dasar hukum",
        lambda v: any(_has(x) for x in v.legal_basis or []),
    ),
    Component(
        8,
        "facilities",
        _("Facilities"),
        "Sarana, prasarana dan/atau fasilitas",
        lambda v: bool(v.facilities) or _has(v.facilities_note),
    ),
    Component(
        9,
        "staff_competence",
        _("Staff competence"),
        "Kompetensi pelaksana",
        lambda v: _has(v.staff_competence),
    ),
    Component(
        10,
        "internal_supervision",
        _("Internal supervision"),
        "Pengawasan internal",
        lambda v: _has(v.internal_supervision),
    ),
    Component(
        11, "staff_count", _("Number of staff"), "Jumlah pelaksana", lambda v: bool(v.staff_count)
    ),
    Component(
        12,
        "service_guarantee",
        _("Service guarantee"),
        "Jaminan pelayanan",
        lambda v: _has(v.service_guarantee),
    ),
    Component(
        13,
        "safety_security",
        _("Safety and security"),
        "Jaminan keamanan dan keselamatan pelayanan",
        lambda v: _has(v.safety_security),
    ),
    Component(
        14,
        "performance_evaluation",
        _("Performance evaluation"),
        "Evaluasi kinerja pelaksana",
        lambda v: _has(v.performance_evaluation),
    ),
)


@dataclass(frozen=True)
class Completeness:
    present: tuple[Component, ...]
    missing: tuple[Component, ...]

    @property
    def score(self) -> int:
        """Number of components present, out of 14."""
        return len(self.present)

    @property
    def total(self) -> int:
        return len(COMPONENTS)

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.total)

    @property
    def is_complete(self) -> bool:
        return not self.missing


def completeness(version: StandardVersion) -> Completeness:
    present: list[Component] = []
    missing: list[Component] = []
    for component in COMPONENTS:
        (present if component.is_present(version) else missing).append(component)
    return Completeness(tuple(present), tuple(missing))
