"""Bulk open data: the datasets, their columns and their rows, streamed.

Each dataset is a fixed list of columns and a generator of rows read with `values()` in
batches: by primary-key ranges (keyset) where a row gathers child rows (services), through
a server-side cursor (`iterator(chunk_size)`) where one grouped query gives the rows. Memory
stays flat whatever the number of rows, and each batch costs a fixed number of queries.
The writers (CSV, XLSX) are in opendata.formats; the views only pick a dataset.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from delivery.models import DeliveryStatus, ServiceDelivery
from feedback.elements import ELEMENTS, SCORE_FIELDS
from feedback.models import SurveyResponse
from feedback.skm import skm_result_from_sums
from opendata import dataset_rows
from services.models import (
    ComplaintChannel,
    CostItem,
    ProcedureStep,
    Requirement,
    StandardVersion,
    VersionStatus,
)

BATCH = 2000
LIST_SEPARATOR = " | "

Row = Sequence[Any]


@dataclass(frozen=True)
class Dataset:
    key: str
    title: Promise
    description: Promise
    columns: tuple[str, ...]
    rows: Callable[[], Iterator[Row]]
    last_modified: Callable[[], dt.datetime | None]
    # EU frequency vocabulary (publications.europa.eu/resource/authority/frequency/...).
    frequency: str
    frequency_label: Promise
    # Rows can be counted cheaply (None: counting costs as much as the export).
    count: Callable[[], int] | None = None


def _published() -> Any:
    return StandardVersion.objects.filter(status=VersionStatus.PUBLISHED)


def _last_published() -> dt.datetime | None:
    value = _published().aggregate(last=Max("updated_at"))["last"]
    return value if isinstance(value, dt.datetime) else None


# --- Services and their current standards ---------------------------------------------------
SERVICE_COLUMNS: tuple[str, ...] = (
    "service_id",
    "service_slug",
    "service_name",
    "category",
    "channels",
    "agency_slug",
    "agency_name",
    "unit_id",
    "unit_name",
    "version_id",
    "version_number",
    "published_at",
    "decree_number",
    "decree_date",
    "effective_date",
    "next_review_date",
    "c01_requirements",
    "c02_procedure",
    "c03_processing_time_value",
    "c03_processing_time_unit",
    "c03_clock_start",
    "c04_is_free",
    "c04_total_cost_idr",
    "c04_cost_items",
    "c05_product",
    "c06_complaint_channels",
    "c07_legal_basis",
    "c08_facilities",
    "c08_facilities_note",
    "c09_staff_competence",
    "c10_internal_supervision",
    "c11_staff_count",
    "c12_service_guarantee",
    "c13_safety_security",
    "c14_performance_evaluation",
    "licence",
)

_VERSION_VALUES = (
    "pk",
    "service_id",
    "service__slug",
    "service__name",
    "service__category",
    "service__channels",
    "service__agency__slug",
    "service__agency__name",
    "service__unit_id",
    "service__unit__name",
    "number",
    "published_at",
    "decree_number",
    "decree_date",
    "effective_date",
    "next_review_date",
    "processing_time_value",
    "processing_time_unit",
    "clock_start",
    "is_free",
    "total_cost",
    "product",
    "legal_basis",
    "facilities",
    "facilities_note",
    "staff_competence",
    "internal_supervision",
    "staff_count",
    "service_guarantee",
    "safety_security",
    "performance_evaluation",
    "service__agency__open_data_licence",
)


def _children(model: Any, version_ids: list[int], fields: Sequence[str]) -> dict[int, list[str]]:
    """One query: each version's child rows, in their order, each formatted as text."""
    by_version: dict[int, list[str]] = defaultdict(list)
    rows = (
        model.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position", "pk")
        .values_list("version_id", *fields)
    )
    for version_id, *values in rows:
        by_version[version_id].append(": ".join(str(v) for v in values if v not in ("", None)))
    return by_version


def _joined(items: Sequence[Any]) -> str:
    return LIST_SEPARATOR.join(str(item) for item in items)


def service_batches(*, batch_size: int = BATCH) -> Iterator[list[Row]]:
    """Rows of the services dataset, a batch of current versions at a time: five queries a
    batch (versions with service, agency and unit; four kinds of child rows)."""
    last = 0
    while True:
        versions = list(
            _published().filter(pk__gt=last).order_by("pk").values(*_VERSION_VALUES)[:batch_size]
        )
        if not versions:
            return
        last = versions[-1]["pk"]
        ids = [v["pk"] for v in versions]
        requirements = _children(Requirement, ids, ("name",))
        steps = _children(ProcedureStep, ids, ("actor", "description"))
        costs = _children(CostItem, ids, ("name", "amount"))
        channels = _children(ComplaintChannel, ids, ("kind", "value"))
        yield [
            (
                v["service_id"],
                v["service__slug"],
                v["service__name"],
                v["service__category"],
                _joined(v["service__channels"] or []),
                v["service__agency__slug"],
                v["service__agency__name"],
                v["service__unit_id"],
                v["service__unit__name"],
                v["pk"],
                v["number"],
                v["published_at"],
                v["decree_number"],
                v["decree_date"],
                v["effective_date"],
                v["next_review_date"],
                _joined(requirements.get(v["pk"], [])),
                _joined(steps.get(v["pk"], [])),
                v["processing_time_value"],
                v["processing_time_unit"],
                v["clock_start"],
                v["is_free"],
                v["total_cost"],
                _joined(costs.get(v["pk"], [])),
                v["product"],
                _joined(channels.get(v["pk"], [])),
                _joined(v["legal_basis"] or []),
                _joined(v["facilities"] or []),
                v["facilities_note"],
                v["staff_competence"],
                v["internal_supervision"],
                v["staff_count"],
                v["service_guarantee"],
                v["safety_security"],
                v["performance_evaluation"],
                v["service__agency__open_data_licence"],
            )
            for v in versions
        ]
        if len(versions) < batch_size:
            return


def service_rows() -> Iterator[Row]:
    for batch in service_batches():
        yield from batch


# --- Requirements and costs: one row per child of a current version ------------------------
REQUIREMENT_COLUMNS = (
    "service_id",
    "service_name",
    "agency_slug",
    "version_id",
    "position",
    "requirement",
    "is_mandatory",
    "where_to_get",
    "copies",
    "legal_basis",
    "licence",
)
COST_COLUMNS = (
    "service_id",
    "service_name",
    "agency_slug",
    "version_id",
    "position",
    "item",
    "amount_idr",
    "legal_basis",
    "licence",
)


def requirement_rows() -> Iterator[Row]:
    yield from (
        Requirement.objects.filter(version__status=VersionStatus.PUBLISHED)
        .order_by("version_id", "position", "pk")
        .values_list(
            "version__service_id",
            "version__service__name",
            "version__service__agency__slug",
            "version_id",
            "position",
            "name",
            "is_mandatory",
            "where_to_get",
            "copies",
            "legal_basis",
            "version__service__agency__open_data_licence",
        )
        .iterator(chunk_size=BATCH)
    )


def cost_rows() -> Iterator[Row]:
    yield from (
        CostItem.objects.filter(version__status=VersionStatus.PUBLISHED)
        .order_by("version_id", "position", "pk")
        .values_list(
            "version__service_id",
            "version__service__name",
            "version__service__agency__slug",
            "version_id",
            "position",
            "name",
            "amount",
            "legal_basis",
            "version__service__agency__open_data_licence",
        )
        .iterator(chunk_size=BATCH)
    )


# --- Performance per service and month -------------------------------------------------------
PERFORMANCE_COLUMNS = (
    "service_id",
    "service_name",
    "agency_slug",
    "month",
    "completed",
    "on_time",
    "on_time_rate",
    "overcharged",
    "licence",
)


def performance_rows() -> Iterator[Row]:
    """Completed requests per service and month (site time zone), one grouped query. The
    on-time rate is left blank below the minimum sample, as on the public pages."""
    minimum = int(settings.MAKLUMAT["MIN_SAMPLE"])
    tz = timezone.get_default_timezone()
    final = StandardVersion.objects.filter(
        service=OuterRef("service_id"),
        status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN],
    )
    rows = (
        ServiceDelivery.objects.filter(
            Exists(final), status=DeliveryStatus.COMPLETED, completed_at__isnull=False
        )
        .annotate(month=TruncMonth("completed_at", tzinfo=tz))
        .values(
            "service_id",
            "service__name",
            "service__agency__slug",
            "service__agency__open_data_licence",
            "month",
        )
        .annotate(
            completed=Count("pk"),
            on_time=Count("pk", filter=Q(completed_at__lte=F("due_at"))),
            overcharged=Count("pk", filter=Q(fee_charged__gt=F("promised_cost"))),
        )
        .order_by("service_id", "month")
        .values_list(
            "service_id",
            "service__name",
            "service__agency__slug",
            "month",
            "completed",
            "on_time",
            "overcharged",
            "service__agency__open_data_licence",
        )
    )
    for service_id, name, agency, month, completed, on_time, overcharged, licence in rows.iterator(
        chunk_size=BATCH
    ):
        day = month.date() if isinstance(month, dt.datetime) else month
        rate = round(on_time / completed, 4) if completed >= minimum else None
        yield (service_id, name, agency, day, completed, on_time, rate, overcharged, licence)


def _last_completed() -> dt.datetime | None:
    value = ServiceDelivery.objects.filter(status=DeliveryStatus.COMPLETED).aggregate(
        last=Max("completed_at")
    )["last"]
    return value if isinstance(value, dt.datetime) else None


# --- Survey (SKM) results per unit and quarter -----------------------------------------------
SKM_COLUMNS = (
    "agency_slug",
    "unit_id",
    "unit_name",
    "period",
    "respondents",
    *(f"nrr_{element.code.lower()}" for element in ELEMENTS),
    "ikm",
    "converted_index",
    "grade",
    "licence",
)


def skm_rows() -> Iterator[Row]:
    """Every unit's result per quarter: the database adds up the scores (one grouped
    query), feedback.skm does the arithmetic, exactly as the results pages."""
    rows = (
        SurveyResponse.objects.values(
            "unit_id",
            "unit__name",
            "unit__agency__slug",
            "unit__agency__open_data_licence",
            "period",
        )
        .annotate(n=Count("pk"), **{name: Sum(name) for name in SCORE_FIELDS})
        .order_by("unit_id", "period")
    )
    for typed in rows.iterator(chunk_size=BATCH):
        row: dict[str, Any] = dict(typed)
        result = skm_result_from_sums(
            sums=[int(row[name]) for name in SCORE_FIELDS], respondents=int(row["n"])
        )
        yield (
            row["unit__agency__slug"],
            row["unit_id"],
            row["unit__name"],
            row["period"],
            result.respondents,
            *result.nrr_shown,
            result.ikm_shown,
            result.converted_shown,
            result.grade,
            row["unit__agency__open_data_licence"],
        )


def _last_answer() -> dt.datetime | None:
    value = SurveyResponse.objects.aggregate(last=Max("submitted_at"))["last"]
    return value if isinstance(value, dt.datetime) else None


DATASETS: dict[str, Dataset] = {
    dataset.key: dataset
    for dataset in (
        Dataset(
            key="services",
            title=_("Services and their current standards"),
            description=_(
                "One row per service with a published standard: the service, its agency "
                "and unit, and the 14 components of its current standard (lists joined "
                "with a vertical bar)."
            ),
            columns=SERVICE_COLUMNS,
            rows=service_rows,
            last_modified=_last_published,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as standards are published"),
            count=lambda: _published().count(),
        ),
        Dataset(
            key="requirements",
            title=_("Requirements of the current standards"),
            description=_("One row per requirement (persyaratan) of a current standard."),
            columns=REQUIREMENT_COLUMNS,
            rows=requirement_rows,
            last_modified=_last_published,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as standards are published"),
            count=lambda: Requirement.objects.filter(
                version__status=VersionStatus.PUBLISHED
            ).count(),
        ),
        Dataset(
            key="costs",
            title=_("Costs of the current standards"),
            description=_(
                "One row per cost item (biaya/tarif) of a current standard, in rupiah, "
                "with its legal basis. A free service has no cost rows."
            ),
            columns=COST_COLUMNS,
            rows=cost_rows,
            last_modified=_last_published,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as standards are published"),
            count=lambda: CostItem.objects.filter(version__status=VersionStatus.PUBLISHED).count(),
        ),
        Dataset(
            key="performance",
            title=_("Performance per service and month"),
            description=_(
                "Requests completed per service and month, how many on time and how many "
                "charged more than the standard's cost. The on-time rate is blank below "
                "the minimum sample."
            ),
            columns=PERFORMANCE_COLUMNS,
            rows=performance_rows,
            last_modified=_last_completed,
            frequency="DAILY",
            frequency_label=_("Daily"),
        ),
        Dataset(
            key="skm",
            title=_("Satisfaction survey (SKM) results"),
            description=_(
                "Results of the community satisfaction survey per service unit and quarter "
                "(PermenPANRB 14/2017): the nine element averages, the index and the grade."
            ),
            columns=SKM_COLUMNS,
            rows=skm_rows,
            last_modified=_last_answer,
            frequency="DAILY",
            frequency_label=_("Daily"),
        ),
        Dataset(
            key="complaints",
            title=_("Complaint statistics per unit and month"),
            description=_(
                "Complaints received per service unit and month, by category, and how many "
                "were verified and answered by their deadlines and reopened. Counts only: no "
                "complaint's text and no complainant's identity."
            ),
            columns=dataset_rows.COMPLAINT_COLUMNS,
            rows=dataset_rows.complaint_rows,
            last_modified=dataset_rows.complaints_last_modified,
            frequency="DAILY",
            frequency_label=_("Daily"),
        ),
        Dataset(
            key="findings",
            title=_("Ombudsman findings and corrective actions"),
            description=_(
                "One row per corrective action of a final finding of the ombudsman (a "
                "finding without actions has one row): outcome, maladministration "
                "categories, the published anonymised summary, the action's deadline and "
                "where it stands."
            ),
            columns=dataset_rows.FINDING_COLUMNS,
            rows=dataset_rows.finding_rows,
            last_modified=dataset_rows.findings_last_modified,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as findings are made final"),
        ),
        Dataset(
            key="assessments",
            title=_("Published compliance assessments"),
            description=_(
                "One row per published compliance assessment of the ombudsman and "
                "dimension: the method, the score, grade, zone and label, and the "
                "dimension's weight and score."
            ),
            columns=dataset_rows.ASSESSMENT_COLUMNS,
            rows=dataset_rows.assessment_rows,
            last_modified=dataset_rows.assessments_last_modified,
            frequency="ANNUAL",
            frequency_label=_("Yearly: when a period is published"),
        ),
        Dataset(
            key="locations",
            title=_("Service locations and public service malls"),
            description=_(
                "One row per open office, public service mall (MPP) or other service "
                "point: address, region, coordinates, opening hours, facilities for "
                "vulnerable groups, and the units serving there."
            ),
            columns=dataset_rows.LOCATION_COLUMNS,
            rows=dataset_rows.location_rows,
            last_modified=dataset_rows.locations_last_modified,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as places are updated"),
        ),
        Dataset(
            key="life-events",
            title=_("Life and business events"),
            description=_(
                "One row per step of a published life or business event: the service, "
                "its agency and unit, and the earlier steps it needs."
            ),
            columns=dataset_rows.LIFE_EVENT_COLUMNS,
            rows=dataset_rows.life_event_rows,
            last_modified=dataset_rows.life_events_last_modified,
            frequency="UPDATE_CONT",
            frequency_label=_("Continuously: changes as journeys are published"),
        ),
    )
}
