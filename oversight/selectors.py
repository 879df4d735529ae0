from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.policy import Action, scope
from core.errors import ApplicationError
from oversight.models import Breach, BreachKind, BreachStatus, SweepRun


def breaches_with_facts() -> QuerySet[Breach]:
    """Breaches with what their pages show (agency, unit, service, request, the promise
    and the calendars the facts count on)."""
    return Breach.objects.select_related(
        "agency",
        "unit__agency__calendar",
        "unit__calendar",
        "service",
        "version",
        "delivery__version",
        "delivery__calendar",
    )


def sweep_runs_recent(limit: int = 20) -> QuerySet[SweepRun]:
    return SweepRun.objects.order_by("-started_at")[:limit]


# --- The ombudsman's review desk -------------------------------------------------------------


@dataclass(frozen=True)
class DeskSort:
    """One whitelisted order of the desk: a breach column, then the id (keyset pagination)."""

    field: str
    descending: bool
    label: Any


DESK_SORTS: dict[str, DeskSort] = {
    "oldest": DeskSort("occurred_at", False, gettext_lazy("Oldest breach first")),
    "newest": DeskSort("occurred_at", True, gettext_lazy("Newest breach first")),
    "waiting": DeskSort("on_desk_at", False, gettext_lazy("Longest on the desk first")),
    "arrived": DeskSort("on_desk_at", True, gettext_lazy("Latest on the desk first")),
}
DESK_DEFAULT_SORT = "oldest"
DESK_PAGE_SIZE = 50
DESK_COUNT_CAP = 1000


# What a row of the desk shows (and its cursor reads): nothing more is read.
DESK_PAGE_FIELDS = (
    "kind",
    "status",
    "occurred_at",
    "on_desk_at",
    "agency__name",
    "agency__short_name",
    "unit__name",
    "service__name",
    "escalation__level",
    "escalation__disputed_at",
    "assignee__username",
)


@dataclass(frozen=True)
class DeskPage:
    rows: list[Breach]
    next_cursor: str  # empty: this is the last page


def review_desk(*, user: Any) -> QuerySet[Breach]:
    """Every breach on the review desk the user may decide (reviewers: all agencies)."""
    return scope(user, Breach.objects.filter(on_desk_at__isnull=False), Action.DECIDE_BREACH)


def desk_cursor(sort: str, breach: Breach) -> str:
    """The opaque cursor of the page after `breach` (its sort key and id, base64 JSON)."""
    value = getattr(breach, DESK_SORTS[sort].field)
    raw = json.dumps([sort, value.isoformat(), breach.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def desk_cursor_read(sort: str, cursor: str) -> tuple[dt.datetime, int]:
    """(sort key, id) of a cursor made for this order; ApplicationError otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, pk = json.loads(raw)
        when = dt.datetime.fromisoformat(value)
        if made_for != sort or not isinstance(pk, int) or not 0 < pk < 2**63 or when.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ApplicationError(
            _("This page link is not valid: start again from the first page."),
            code="invalid",
            field="after",
        ) from None
    return when, pk


def desk_page(
    *, queryset: QuerySet[Breach], sort: str, cursor: str = "", size: int = DESK_PAGE_SIZE
) -> DeskPage:
    """One page of the desk, keyset-paginated: the rows after the cursor in the sort order
    (sort key, then id), read straight off the desk's partial indexes however deep the page."""
    order = DESK_SORTS[sort]
    rows = queryset
    if cursor:
        value, pk = desk_cursor_read(sort, cursor)
        # The redundant bound (key >= value) lets PostgreSQL start the index scan there.
        if order.descending:
            rows = rows.filter(**{f"{order.field}__lte": value}).filter(
                Q(**{f"{order.field}__lt": value}) | Q(pk__lt=pk)
            )
        else:
            rows = rows.filter(**{f"{order.field}__gte": value}).filter(
                Q(**{f"{order.field}__gt": value}) | Q(pk__gt=pk)
            )
    prefix = "-" if order.descending else ""
    ordering = (f"{prefix}{order.field}", f"{prefix}pk")
    # Two steps: the page's keys first, off the desk's covering partial indexes (an
    # index-only scan that tests the filters on the index, however sparse they are), then
    # those rows with what the page shows. The second step names each row's month as well
    # as its id: on the partitioned table PostgreSQL then plans and reads only the page's
    # months, where an id alone (or the first step as a subquery) would plan and probe
    # every live month (docs/performance.md, "The review desk and live months").
    keys = list(rows.order_by(*ordering).values_list("pk", "occurred_at")[: size + 1])
    found = list(
        Breach.objects.filter(
            pk__in=[pk for pk, _ in keys],
            occurred_at__in=sorted({occurred for _, occurred in keys}),
        )
        .select_related("agency", "unit", "service", "escalation", "assignee")
        .only(*DESK_PAGE_FIELDS)
        .order_by(*ordering)
    )
    more = len(found) > size
    found = found[:size]
    return DeskPage(rows=found, next_cursor=desk_cursor(sort, found[-1]) if more else "")


def desk_counts(*, queryset: QuerySet[Breach], cap: int = DESK_COUNT_CAP) -> dict[str, int]:
    """How many breaches of the (filtered) desk are in each state, counted up to `cap`
    (a count above it is `cap + 1`: "more than cap"). One query; each state's count stops
    at cap + 1 rows, so counting the whole national desk costs no more than a page.

    The states are a VALUES list and the count one correlated subquery over it: the
    database plans the (filtered) desk once, not once per state, which is what the page
    costs on a table partitioned into many live months."""
    from django.db import connections
    from django.db.models.expressions import RawSQL

    state = RawSQL('"desk_states"."column1"', ())  # a VALUES list's first column, in both
    sliced = queryset.filter(status=state).order_by().values("pk")[: cap + 1]
    sql, params = sliced.query.sql_with_params()
    states = BreachStatus.values
    values = ", ".join(["(%s)"] * len(states))
    statement = (
        'SELECT "desk_states"."column1", '  # noqa: S608 (the ORM's SQL, and placeholders)
        f"(SELECT count(*) FROM ({sql}) AS s) FROM (VALUES {values}) AS desk_states"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(statement, [*params, *states])
        counted = {str(status): int(n) for status, n in cursor.fetchall()}
    return {status: counted[status] for status in states}


# The desk's export (the current filtered view, every page): what a reviewer works with,
# never who complained or followed a request (no subject, delivery or citizen column).
DESK_EXPORT_COLUMNS = (
    "breach_id",
    "kind",
    "kind_label",
    "status",
    "status_label",
    "agency",
    "agency_region_code",
    "unit",
    "service",
    "occurred_at",
    "detected_at",
    "on_desk_at",
    "on_desk_because",
    "suggested_category",
    "decided_category",
    "severity",
    "measured_value",
    "promised_value",
    "value_unit",
    "assigned_to",
)


def desk_reason(level: int | None, disputed_at: Any) -> str:
    """Why a breach is on the desk: disputed by its unit, escalated to the top, or pulled in."""
    if disputed_at is not None:
        return "disputed"
    if level is not None and level >= 3:
        return "escalated"
    return "pulled"


def desk_export_rows(
    *, queryset: QuerySet[Breach], sort: str, chunk_size: int = 1000
) -> Iterator[tuple[Any, ...]]:
    """Every row of the (filtered) desk in the page's order, streamed from one query in
    chunks (a server-side cursor on PostgreSQL): memory stays flat whatever the number."""
    order = DESK_SORTS[sort]
    prefix = "-" if order.descending else ""
    kinds = {value: str(label) for value, label in BreachKind.choices}
    statuses = {value: str(label) for value, label in BreachStatus.choices}
    rows = (
        queryset.order_by(f"{prefix}{order.field}", f"{prefix}pk")
        .values_list(
            "pk",
            "kind",
            "status",
            "agency__name",
            "agency__region_code",
            "unit__name",
            "service__name",
            "occurred_at",
            "detected_at",
            "on_desk_at",
            "escalation__level",
            "escalation__disputed_at",
            "suggested_category",
            "decided_category",
            "severity",
            "measured_value",
            "promised_value",
            "value_unit",
            "assignee__username",
        )
        .iterator(chunk_size=chunk_size)
    )
    for (
        pk,
        kind,
        status,
        agency,
        region,
        unit,
        service,
        occurred,
        detected,
        on_desk,
        level,
        disputed,
        *rest,
    ) in rows:
        yield (
            pk,
            kind,
            kinds.get(kind, kind),
            status,
            statuses.get(status, status),
            agency,
            region,
            unit,
            service,
            occurred,
            detected,
            on_desk,
            desk_reason(level, disputed),
            *rest,
        )
