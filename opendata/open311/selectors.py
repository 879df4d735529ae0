"""Reads behind GeoReport v2: the public services, and the service requests (deliveries and
complaints that are not confidential), each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from delivery.models import TRACKING_ALPHABET, DeliveryStatus, ServiceDelivery
from feedback.complaints.models import Complaint
from feedback.complaints.states import OPEN_STATES
from services.models import Service, StandardVersion, VersionStatus

# The spec: "Default query limit is a span of 90 days or first 1000 requests returned".
MAX_SPAN = dt.timedelta(days=90)
MAX_REQUESTS = 1000
# At most this many ids in one `service_request_id` (each is looked up by key).
MAX_IDS = 100

DELIVERY_PREFIX = "D"
COMPLAINT_PREFIX = "C"
_PUBLIC_ID = re.compile(r"^([DC])-([1-9][0-9]{0,17})$")
_CODE = re.compile(f"^[{TRACKING_ALPHABET}]{{6,12}}$")
OPEN_DELIVERY = (DeliveryStatus.WAITING, DeliveryStatus.OPEN, DeliveryStatus.PAUSED)
OPEN = "open"
CLOSED = "closed"

Request = ServiceDelivery | Complaint


def public_id(item: Request) -> str:
    prefix = DELIVERY_PREFIX if isinstance(item, ServiceDelivery) else COMPLAINT_PREFIX
    return f"{prefix}-{item.pk}"


def is_open(item: Request) -> bool:
    if isinstance(item, ServiceDelivery):
        return item.status in OPEN_DELIVERY
    return item.status in OPEN_STATES


def requested_at(item: Request) -> dt.datetime:
    return item.submitted_at if isinstance(item, ServiceDelivery) else item.received_at


# --- Services ------------------------------------------------------------------------------
def _published() -> Exists:
    return Exists(
        StandardVersion.objects.filter(service=OuterRef("pk"), status=VersionStatus.PUBLISHED)
    )


def open311_services() -> QuerySet[Service]:
    """Every service with a published standard: one query."""
    return (
        Service.objects.filter(_published())
        .select_related("agency")
        .only("pk", "name", "summary", "keywords", "category", "agency__name")
        .order_by("name", "pk")
    )


def open311_service(code: str) -> Service | None:
    if not code.isascii() or not code.isdigit() or len(code) > 18:
        return None
    return (
        Service.objects.filter(_published())
        .select_related("agency", "unit")
        .filter(pk=int(code))
        .first()
    )


def open311_changeset() -> dt.datetime | None:
    """When a public service last changed (the spec's `changeset`)."""
    return Service.objects.filter(_published()).aggregate(last=Max("updated_at"))["last"]


# --- Service requests ----------------------------------------------------------------------
def _deliveries() -> QuerySet[ServiceDelivery]:
    return ServiceDelivery.objects.select_related("service", "agency", "unit")


def _complaints() -> QuerySet[Complaint]:
    # Confidential complaints are never public, whoever asks and however.
    return Complaint.objects.filter(is_confidential=False).select_related(
        "service", "agency", "unit"
    )


def is_request_id(value: str) -> bool:
    return bool(_PUBLIC_ID.match(value) or _CODE.match(value))


def is_token(value: str) -> bool:
    return bool(_CODE.match(value))


def requests_by_ids(ids: Iterable[str]) -> list[Request]:
    """The requests these ids name (public ids or tracking codes), newest first: two
    queries. Unknown ids are left out."""
    delivery_pks: set[int] = set()
    complaint_pks: set[int] = set()
    codes: set[str] = set()
    for value in ids:
        match = _PUBLIC_ID.match(value)
        if match:
            pks = delivery_pks if match.group(1) == DELIVERY_PREFIX else complaint_pks
            pks.add(int(match.group(2)))
        elif _CODE.match(value):
            codes.add(value)
    found: list[Request] = []
    if delivery_pks or codes:
        found += _deliveries().filter(Q(pk__in=delivery_pks) | Q(tracking_code__in=codes))
    if complaint_pks or codes:
        found += _complaints().filter(Q(pk__in=complaint_pks) | Q(tracking_code__in=codes))
    return sorted(found, key=lambda item: (requested_at(item), item.pk), reverse=True)


def request_by_id(value: str) -> Request | None:
    found = requests_by_ids([value])
    return found[0] if found else None


@dataclass(frozen=True)
class RequestFilter:
    start: dt.datetime
    end: dt.datetime
    service_ids: Collection[int] | None = None  # None: every service
    statuses: Collection[str] = (OPEN, CLOSED)


def requests_list(query: RequestFilter, *, limit: int = MAX_REQUESTS) -> list[Request]:
    """Requests made between `start` and `end` (both included), newest first, at most
    `limit`: two queries whatever the data size."""
    deliveries = _deliveries().filter(submitted_at__gte=query.start, submitted_at__lte=query.end)
    complaints = _complaints().filter(received_at__gte=query.start, received_at__lte=query.end)
    if query.service_ids is not None:
        deliveries = deliveries.filter(service_id__in=query.service_ids)
        complaints = complaints.filter(service_id__in=query.service_ids)
    if OPEN not in query.statuses:
        deliveries = deliveries.exclude(status__in=OPEN_DELIVERY)
        complaints = complaints.exclude(status__in=OPEN_STATES)
    if CLOSED not in query.statuses:
        deliveries = deliveries.filter(status__in=OPEN_DELIVERY)
        complaints = complaints.filter(status__in=OPEN_STATES)
    merged: list[Request] = []
    merged += deliveries.order_by("-submitted_at", "-pk")[:limit]
    merged += complaints.order_by("-received_at", "-pk")[:limit]
    merged.sort(key=lambda item: (requested_at(item), item.pk), reverse=True)
    return merged[:limit]
