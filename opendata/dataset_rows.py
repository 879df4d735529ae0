"""Rows of the bulk datasets of places, journeys and accountability (registered in
opendata.exports.DATASETS): complaint statistics, published findings and their corrective
actions, published assessments, locations, life events.

The same rules as the API and the public pages, from the same selectors: counts of
complaints (never their text or who sent them), final findings only (anonymised), published
assessments only, open locations, published journeys. Each generator reads in batches by
primary key (keyset) or through one grouped query with a server-side cursor, so memory stays
flat and each batch costs a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import Max
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cases.models import Finding, Outcome
from cases.selectors import published_findings
from compliance.selectors import EXPORT_COLUMNS, export_rows, published
from feedback.complaints.models import Complaint, ComplaintCategory
from feedback.complaints.selectors import complaint_figure_counts
from lifeevents.models import LifeEvent
from opendata.selectors import life_events_with_steps, locations_with_counters, step_needs

BATCH = 500
LIST_SEPARATOR = " | "
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Row = Sequence[Any]


def _joined(items: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(item) for item in items)


def _latest(value: Any) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


# --- Complaint statistics per unit and month -------------------------------------------------
_COUNTS = (
    "received",
    *(f"cat_{value}" for value in ComplaintCategory.values),
    "verify_counted",
    "verified_in_time",
    "answer_counted",
    "answered_in_time",
    "answered",
    "reopened",
)
COMPLAINT_COLUMNS = (
    "agency_slug",
    "unit_id",
    "unit_name",
    "month",
    "received",
    *(f"category_{value}" for value in ComplaintCategory.values),
    "verification_due",
    "verified_in_time",
    "answer_due",
    "answered_in_time",
    "answered",
    "reopened",
    "licence",
)


def complaint_rows() -> Iterator[Row]:
    """Complaints received per open unit and month (site time zone), counted as the public
    figures count them (feedback.complaints.selectors.complaint_figure_counts): one grouped
    query. Confidential complaints are counted; no text, no identity, no tracking code."""
    tz = timezone.get_default_timezone()
    rows = (
        Complaint.objects.filter(unit__is_active=True)
        .annotate(month=TruncMonth("received_at", tzinfo=tz))
        .values(
            "unit__agency__slug",
            "unit__agency__open_data_licence",
            "unit_id",
            "unit__name",
            "month",
        )
        .annotate(**complaint_figure_counts(now=timezone.now()))
        .order_by("unit_id", "month")
    )
    for typed in rows.iterator(chunk_size=BATCH):
        row: dict[str, Any] = dict(typed)
        month = row["month"]
        day = month.date() if isinstance(month, dt.datetime) else month
        yield (
            row["unit__agency__slug"],
            row["unit_id"],
            row["unit__name"],
            day,
            *(row[name] for name in _COUNTS),
            row["unit__agency__open_data_licence"],
        )


def complaints_last_modified() -> dt.datetime | None:
    return _latest(Complaint.objects.aggregate(last=Max("updated_at"))["last"])


# --- Published findings and their corrective actions -----------------------------------------
FINDING_COLUMNS = (
    "finding_id",
    "final_at",
    "outcome",
    "categories",
    "summary",
    "agency_slug",
    "agency_name",
    "unit_id",
    "unit_name",
    "service_id",
    "service_name",
    "action_id",
    "action_text",
    "action_due_at",
    "action_state",
    "licence",
)


def finding_batches(*, batch_size: int = BATCH) -> Iterator[list[Row]]:
    """One row per corrective action of a final finding (one row with the action columns
    blank for a finding without actions); two queries a batch of findings."""
    last = 0
    now = timezone.now()
    while True:
        findings: list[Finding] = list(
            published_findings().filter(pk__gt=last).order_by("pk")[:batch_size]
        )
        if not findings:
            return
        last = findings[-1].pk
        rows: list[Row] = []
        for finding in findings:
            case = finding.case
            head = (
                finding.pk,
                finding.final_at,
                finding.outcome,
                _joined(finding.categories or []),
                "" if finding.outcome == Outcome.STOPPED else finding.summary,
                case.agency.slug,
                case.agency.name,
                case.unit_id,
                case.unit.name,
                case.service_id,
                case.service.name if case.service is not None else "",
            )
            licence = case.agency.open_data_licence
            actions = list(finding.actions.all())
            if not actions:
                rows.append((*head, None, "", None, "", licence))
            rows.extend(
                (*head, action.pk, action.text, action.due_at, action.public_state(now), licence)
                for action in actions
            )
        yield rows
        if len(findings) < batch_size:
            return


def finding_rows() -> Iterator[Row]:
    for batch in finding_batches():
        yield from batch


def findings_last_modified() -> dt.datetime | None:
    return _latest(published_findings().aggregate(last=Max("final_at"))["last"])


# --- Published assessments -------------------------------------------------------------------
ASSESSMENT_COLUMNS = EXPORT_COLUMNS


def assessment_rows() -> Iterator[Row]:
    """One row per published assessment and dimension (compliance's own export)."""
    yield from export_rows(chunk_size=BATCH)


def assessments_last_modified() -> dt.datetime | None:
    return _latest(published().aggregate(last=Max("published_at"))["last"])


# --- Locations -------------------------------------------------------------------------------
LOCATION_COLUMNS = (
    "location_id",
    "slug",
    "name",
    "kind",
    "host_agency_slug",
    "host_agency_name",
    "address",
    "province",
    "city",
    "region_code",
    "phone",
    "latitude",
    "longitude",
    "opening_hours",
    "facilities",
    "facilities_note",
    "units",
    "licence",
)


def _hours(weekly: Any) -> str:
    days = sorted((weekly or {}).items(), key=lambda item: int(item[0]))
    return _joined(f"{WEEKDAYS[int(day)]} {pair[0]}-{pair[1]}" for day, pair in days)


def location_batches(*, batch_size: int = BATCH) -> Iterator[list[Row]]:
    """One row per open location with the open units serving there: two queries a batch."""
    last = 0
    while True:
        locations = list(locations_with_counters().filter(pk__gt=last).order_by("pk")[:batch_size])
        if not locations:
            return
        last = locations[-1].pk
        yield [
            (
                location.pk,
                location.slug,
                location.name,
                location.kind,
                location.host_agency.slug,
                location.host_agency.name,
                location.address,
                location.province,
                location.city,
                location.region_code,
                location.phone,
                location.latitude,
                location.longitude,
                _hours(location.weekly_hours),
                _joined(location.facilities or []),
                location.facilities_note,
                _joined(
                    f"{c.unit.agency.slug}: {c.unit.name}" + (f" ({c.label})" if c.label else "")
                    for c in location.open_counters  # type: ignore[attr-defined]
                ),
                location.host_agency.open_data_licence,
            )
            for location in locations
        ]
        if len(locations) < batch_size:
            return


def location_rows() -> Iterator[Row]:
    for batch in location_batches():
        yield from batch


def locations_last_modified() -> dt.datetime | None:
    return _latest(locations_with_counters().aggregate(last=Max("updated_at"))["last"])


# --- Life events -----------------------------------------------------------------------------
LIFE_EVENT_COLUMNS = (
    "event_id",
    "event_slug",
    "kind",
    "title",
    "step_order",
    "service_id",
    "service_name",
    "agency_slug",
    "unit_name",
    "needs_steps",
    "note",
    "has_published_standard",
    "licence",
)


def life_event_batches(*, batch_size: int = BATCH) -> Iterator[list[Row]]:
    """One row per step of a published life or business event: three queries a batch."""
    last = 0
    while True:
        events = list(life_events_with_steps().filter(pk__gt=last).order_by("pk")[:batch_size])
        if not events:
            return
        last = events[-1].pk
        yield [
            (
                event.pk,
                event.slug,
                event.kind,
                event.title,
                step.order,
                step.service_id,
                step.service.name,
                step.service.agency.slug,
                step.service.unit.name,
                _joined(step_needs(step)),
                step.note,
                bool(step.published_count),
                step.service.agency.open_data_licence,
            )
            for event in events
            for step in event.public_steps  # type: ignore[attr-defined]
        ]
        if len(events) < batch_size:
            return


def life_event_rows() -> Iterator[Row]:
    for batch in life_event_batches():
        yield from batch


def life_events_last_modified() -> dt.datetime | None:
    return _latest(
        LifeEvent.objects.filter(is_published=True).aggregate(last=Max("updated_at"))["last"]
    )
