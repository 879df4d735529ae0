"""Reads for services and standards, with their joins already applied."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from agencies.models import Agency
from agencies.policy import Action, scope
from core.collation import code_point_collation_sql
from services.components import COMPONENTS
from services.models import FINAL_STATUSES, Service, StandardVersion, VersionStatus
from services.search import StandardsFigures, standards_figures_query

VERSION_CHILDREN = ("requirements", "steps", "cost_items", "complaint_channels")


def published_versions() -> QuerySet[StandardVersion]:
    return StandardVersion.objects.filter(status=VersionStatus.PUBLISHED)


def services_published() -> QuerySet[Service]:
    """Services a citizen can see: those with a published standard (the service page's rule)."""
    return Service.objects.filter(Exists(published_versions().filter(service=OuterRef("pk"))))


def service_list_public() -> QuerySet[Service]:
    """Services with a published standard, each with its current version attached."""
    return (
        services_published()
        .select_related("agency", "unit")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=published_versions().prefetch_related("cost_items"),
                to_attr="published",
            )
        )
        # The id breaks ties between services of the same name: pages of a list never
        # repeat or skip one.
        .order_by("name", "pk")
    )


def service_get_public(*, agency_slug: str, slug: str) -> Service:
    return Service.objects.select_related("agency", "unit").get(agency__slug=agency_slug, slug=slug)


def version_with_content(version_qs: QuerySet[StandardVersion]) -> QuerySet[StandardVersion]:
    return version_qs.select_related("service__agency", "service__unit").prefetch_related(
        *VERSION_CHILDREN
    )


def service_with_current_version(service_qs: QuerySet[Service]) -> QuerySet[Service]:
    """Join agency and unit, and attach the published version with its content (read it
    with `current_version`): a constant number of queries, however many services."""
    return service_qs.select_related("agency", "unit").prefetch_related(
        Prefetch(
            "versions",
            queryset=published_versions().prefetch_related(*VERSION_CHILDREN),
            to_attr="published_versions",
        )
    )


def current_version(service: Service) -> StandardVersion | None:
    """The published version with its content: from `service_with_current_version`'s
    prefetch when the service has it, else in one query."""
    prefetched: list[StandardVersion] | None = getattr(service, "published_versions", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return version_with_content(service.versions.filter(status=VersionStatus.PUBLISHED)).first()


# --- Scoped by the permission policy ---------------------------------------------------------


def service_list_for_staff(*, user: Any) -> QuerySet[Service]:
    """The services whose private data (drafts) the user may view."""
    return scope(user, Service.objects.all(), Action.VIEW_PRIVATE).select_related("agency", "unit")


def version_list_for_staff(*, user: Any) -> QuerySet[StandardVersion]:
    """The versions, drafts included, of the services whose private data the user may view."""
    return scope(
        user,
        StandardVersion.objects.all(),
        Action.VIEW_PRIVATE,
        agency_field="service__agency",
        unit_field="service__unit",
    )


def service_list_visible(*, user: Any) -> QuerySet[Service]:
    """Services with a final version for everyone, plus all of the user's private scope."""
    final = StandardVersion.objects.filter(service=OuterRef("pk"), status__in=FINAL_STATUSES)
    return Service.objects.filter(
        Q(Exists(final)) | Q(pk__in=service_list_for_staff(user=user).values("pk"))
    )


def version_list_visible(*, user: Any) -> QuerySet[StandardVersion]:
    """Final versions for everyone, plus drafts where the user may view private data."""
    return StandardVersion.objects.filter(
        Q(status__in=FINAL_STATUSES) | Q(pk__in=version_list_for_staff(user=user).values("pk"))
    )


# --- Agencies ranked by the completeness of their published standards -----------------------
# The league sorts on the figures as the page shows them (StandardsFigures: Python's round,
# ties to even on the binary value), so that agencies showing the same figures are ranked by
# the next key. Ties happen when 2 * scale * numerator / denominator is an odd integer n;
# which of them Python rounds down depends only on n, so the sets are worked out here once.
PERCENT_TIES_DOWN = frozenset(n for n in range(1, 200, 2) if round(n / 2) < n / 2)
TENTHS_TIES_DOWN = frozenset(
    n for n in range(1, 20 * len(COMPONENTS), 2) if round(n / 20, 1) < n / 20
)


def rounded_as_displayed_sql(
    numerator: str, denominator: str, *, scale: int, ties_down: frozenset[int]
) -> str:
    """round(scale * numerator / denominator) as SQL over two integer columns, rounded as
    Python rounds it (0 for 0/0). `scale` 100 gives StandardsFigures.complete_percent; 10
    gives its mean_score in tenths."""
    doubled = f"({numerator} * {2 * scale})"
    nearest = f"(({doubled} + {denominator}) / (2 * {denominator}))"
    ties = ", ".join(str(n) for n in sorted(ties_down))
    return (
        f"CASE WHEN {denominator} = 0 THEN 0"
        f" WHEN MOD({doubled}, {denominator}) = 0 AND {doubled} / {denominator} IN ({ties})"
        f" THEN {nearest} - 1 ELSE {nearest} END"
    )


# The figures are computed once per version (in standards_figures_query), joined to every
# agency, and ranked in the database.
_LEAGUE_SQL = """
SELECT * FROM (
    SELECT a.*,
        COALESCE(f.published, 0) AS figures_published,
        COALESCE(f.complete, 0) AS figures_complete,
        COALESCE(f.score_total, 0) AS figures_score_total
    FROM {agency} AS a
    LEFT JOIN ({figures}) AS f ON f.group_id = a.id
    WHERE {where}
) AS league
ORDER BY figures_published = 0, {percent} DESC, {tenths} DESC, figures_published DESC,
    name{collation}
"""


def agency_list_by_completeness(
    *, region: str = "", level: str = ""
) -> list[tuple[Agency, StandardsFigures]]:
    """Agencies with the completeness figures of their published standards, best first, in
    one query: by the share of complete standards, then the mean score (both as the page
    shows them), then the number published, then name; agencies without any last, by name."""
    figures_sql, params = standards_figures_query(by="agency").query.sql_with_params()
    where, where_params = ["TRUE"], []
    for column, value in (("region_name", region), ("level", level)):
        if value:
            where.append(f"a.{column} = %s")
            where_params.append(value)
    sql = _LEAGUE_SQL.format(
        agency=Agency._meta.db_table,
        figures=figures_sql,
        where=" AND ".join(where),
        percent=rounded_as_displayed_sql(
            "figures_complete", "figures_published", scale=100, ties_down=PERCENT_TIES_DOWN
        ),
        tenths=rounded_as_displayed_sql(
            "figures_score_total", "figures_published", scale=10, ties_down=TENTHS_TIES_DOWN
        ),
        collation=code_point_collation_sql(),
    )
    agencies = Agency.objects.raw(sql, [*params, *where_params])
    return [
        (
            agency,
            StandardsFigures(
                published=agency.figures_published,  # type: ignore[attr-defined]
                complete=agency.figures_complete,  # type: ignore[attr-defined]
                score_total=agency.figures_score_total,  # type: ignore[attr-defined]
            ),
        )
        for agency in agencies
    ]
