"""Public search over services, and the public completeness figures of agencies.

On PostgreSQL: a stored, GIN-indexed `Service.search_vector` (Indonesian stemming plus
the `simple` configuration, so that codes like "KTP-el" match as written), ranked with
`ts_rank` and helped by trigram similarity on the name and keywords for typos. Candidates
are found only through GIN indexes and capped before ranking, so a search costs about the
same with 10,000 services as with 100 (see `_match_postgresql`). On SQLite (`make run`):
a plain `icontains` match, so the site works without PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal

from django import forms
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from agencies.facilities import facility_in_query, units_with_facility
from agencies.models import AccessFacility, Agency
from core.forms import FixedChoices, Form, PlainSelect
from services.models import (
    Channel,
    ComplaintChannel,
    ProcedureStep,
    Requirement,
    Service,
    ServiceCategory,
    StandardVersion,
    TimeUnit,
    VersionStatus,
)

PAGE_SIZE = 20
MAX_QUERY_TERMS = 8
# A search ranks at most this many candidates from each of its three candidate sets (see
# `_match_postgresql`): up to 180 results (9 pages) when many services match, and a bound
# on the work of a query that matches thousands of them.
CANDIDATES_PER_SET = 60


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- Keeping the vector up to date --------------------------------------------------------

# One set-based UPDATE: the service's name and keywords (A), its agency's name (B), and its
# current published version's product and requirements (C), each in both configurations.
_REFRESH_SQL = """
UPDATE {service} AS s SET search_vector = src.vector
FROM (
    SELECT s2.id,
        setweight(to_tsvector('indonesian', unaccent(s2.name || ' ' || s2.keywords)), 'A')
        || setweight(to_tsvector('simple', unaccent(s2.name || ' ' || s2.keywords)), 'A')
        || setweight(to_tsvector('indonesian', unaccent(a.name || ' ' || a.short_name)), 'B')
        || setweight(to_tsvector('simple', unaccent(a.name || ' ' || a.short_name)), 'B')
        || setweight(to_tsvector('indonesian', unaccent(coalesce(v.product, '') || ' ' || coalesce(req.names, ''))), 'C')
        || setweight(to_tsvector('simple', unaccent(coalesce(v.product, '') || ' ' || coalesce(req.names, ''))), 'C')
        AS vector
    FROM {service} AS s2
    JOIN {agency} AS a ON a.id = s2.agency_id
    LEFT JOIN {version} AS v ON v.service_id = s2.id AND v.status = 'published'
    LEFT JOIN LATERAL (
        SELECT string_agg(r.name, ' ') AS names FROM {requirement} AS r WHERE r.version_id = v.id
    ) AS req ON true
    WHERE {where}
) AS src
WHERE s.id = src.id
"""


def _refresh(where: str, params: list[Any]) -> int:
    sql = _REFRESH_SQL.format(
        service=Service._meta.db_table,
        agency=Agency._meta.db_table,
        version=StandardVersion._meta.db_table,
        requirement=Requirement._meta.db_table,
        where=where,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def service_search_refresh(*, service_ids: Iterable[int]) -> int:
    """Recompute the stored search vector of these services (PostgreSQL only); rows updated."""
    ids = sorted({int(i) for i in service_ids})
    if not ids or not is_postgresql():
        return 0
    return _refresh("s2.id = ANY(%s)", [ids])


def agency_search_refresh(*, agency_id: int) -> int:
    """Recompute the stored search vector of all the agency's services, in one statement."""
    if not is_postgresql():
        return 0
    return _refresh("s2.agency_id = %s", [agency_id])


def on_standard_published(sender: Any, version: StandardVersion, **kwargs: Any) -> None:
    service_search_refresh(service_ids=[version.service_id])


def on_service_saved(sender: Any, instance: Service, created: bool, **kwargs: Any) -> None:
    # A new service has no published version yet (it is not searchable until it has one);
    # a renamed one must be found by its new name.
    if not created and not kwargs.get("raw"):
        service_search_refresh(service_ids=[instance.pk])


# The stored vector holds the agency's name and short name (not the unit's): renaming an
# agency, in the admin or anywhere else, refreshes the vectors of all its services.
_SEARCHED_AGENCY_FIELDS = ("name", "short_name")


@receiver(pre_save, sender=Agency, dispatch_uid="services.search.agency_pre_save")
def on_agency_pre_save(sender: Any, instance: Agency, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance.pk is None:
        return
    before = Agency.objects.filter(pk=instance.pk).values_list(*_SEARCHED_AGENCY_FIELDS).first()
    now = tuple(getattr(instance, f) for f in _SEARCHED_AGENCY_FIELDS)
    instance._search_names_changed = before is not None and before != now  # type: ignore[attr-defined]


@receiver(post_save, sender=Agency, dispatch_uid="services.search.agency_saved")
def on_agency_saved(sender: Any, instance: Agency, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_search_names_changed", False):
        agency_search_refresh(agency_id=instance.pk)
        instance._search_names_changed = False  # type: ignore[attr-defined]


# --- The search form -----------------------------------------------------------------------


# An agency as the search's filter lists it: slug, name, region.
AgencyRow = tuple[str, str, str]


def agency_filter_rows() -> list[AgencyRow]:
    """The agencies the search can be filtered by, by name (one query)."""
    return list(Agency.objects.order_by("name").values_list("slug", "name", "region_name"))


# The last rows given and their choices: the cached rows are one list while current, so
# that the choices of several hundred agencies are not rebuilt for every form.
_last_choices: tuple[list[AgencyRow], FixedChoices, FixedChoices] | None = None


def _agency_choices(agencies: list[AgencyRow]) -> tuple[FixedChoices, FixedChoices]:
    """The choices of the agency and region filters for these rows."""
    global _last_choices
    last = _last_choices
    if last is not None and last[0] is agencies:
        return last[1], last[2]
    regions = sorted({region for _slug, _name, region in agencies if region})
    choices = (
        FixedChoices([("", _("All agencies")), *((slug, name) for slug, name, _r in agencies)]),
        FixedChoices([("", _("All regions")), *((r, r) for r in regions)]),
    )
    _last_choices = (agencies, *choices)
    return choices


class SearchForm(Form):
    """The public search and its filters. Bad values are dropped, never an error page.

    `agencies`: the rows of `agency_filter_rows()` if the caller has them (cached), else read.
    The selects are PlainSelect: the agency filter has hundreds of options.
    """

    q = forms.CharField(label=_("Search for a service"), required=False, max_length=200)
    agency = forms.ChoiceField(label=_("Agency"), required=False, widget=PlainSelect)
    region = forms.ChoiceField(label=_("Region"), required=False, widget=PlainSelect)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=FixedChoices([("", _("All categories")), *ServiceCategory.choices]),
        widget=PlainSelect,
    )
    channel = forms.ChoiceField(
        label=_("How to apply"),
        required=False,
        choices=FixedChoices([("", _("Any channel")), *Channel.choices]),
        widget=PlainSelect,
    )
    facility = forms.ChoiceField(
        label=_("Facility for vulnerable groups"),
        required=False,
        choices=FixedChoices([("", _("Any facility")), *AccessFacility.choices]),
        widget=PlainSelect,
    )
    free = forms.BooleanField(label=_("Free services only"), required=False)
    max_days = forms.IntegerField(
        label=_("Finished within (days)"), required=False, min_value=1, max_value=3650
    )

    def __init__(self, *args: Any, agencies: list[AgencyRow] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agencies is None:
            agencies = agency_filter_rows()
        agency_field, region_field = self.fields["agency"], self.fields["region"]
        assert isinstance(agency_field, forms.ChoiceField)
        assert isinstance(region_field, forms.ChoiceField)
        agency_field.choices, region_field.choices = _agency_choices(agencies)

    def filters(self) -> SearchFilters:
        """The valid filters; an invalid field counts as not given."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        query = (data.get("q") or "").strip()
        facility = data.get("facility") or ""
        if not facility:
            # "layanan dengan ruang laktasi": the facility's name becomes the filter.
            facility, query = facility_in_query(query)
        return SearchFilters(
            query=query,
            facility=facility,
            agency=data.get("agency") or "",
            region=data.get("region") or "",
            category=data.get("category") or "",
            channel=data.get("channel") or "",
            free_only=bool(data.get("free")),
            max_days=data.get("max_days"),
        )


@dataclass(frozen=True)
class SearchFilters:
    query: str = ""
    agency: str = ""
    region: str = ""
    category: str = ""
    channel: str = ""
    free_only: bool = False
    max_days: int | None = None
    facility: str = ""

    @property
    def any_filter(self) -> bool:
        return bool(
            self.facility
            or self.agency
            or self.region
            or self.category
            or self.channel
            or self.free_only
            or self.max_days
        )


# --- The search ------------------------------------------------------------------------------


def normalise_query(text: str) -> str:
    """Lower case, accents stripped (as `unaccent` does for the stored vector), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())[:200]


def _terms(text: str) -> list[str]:
    return re.findall(r"\w+", text)[:MAX_QUERY_TERMS]


def _published_with_filters(filters: SearchFilters) -> Q:
    """Conditions on the current published version, applied through one join."""
    version = Q(versions__status=VersionStatus.PUBLISHED)
    if filters.free_only:
        version &= Q(versions__total_cost=0)
    if filters.max_days:
        version &= Q(
            versions__processing_time_unit__in=[TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS],
            versions__processing_time_value__lte=filters.max_days,
        ) | Q(versions__processing_time_unit__in=[TimeUnit.HOURS, TimeUnit.MINUTES])
    return version


# The fields of a result's current version that the results list shows.
RESULT_VERSION_FIELDS = (
    "id",
    "service_id",
    "status",
    "number",
    "processing_time_value",
    "processing_time_unit",
    "is_free",
    "total_cost",
)


# The fields of a result (and of its agency) that the results list shows.
RESULT_SERVICE_FIELDS = (
    "id",
    "name",
    "slug",
    "agency",
    "agency__name",
    "agency__slug",
    "agency__region_name",
)


def service_search(*, filters: SearchFilters) -> QuerySet[Service]:
    """Services with a published standard matching the query and filters, best first.

    Each result carries its agency, and its current version as `service.published[0]` (one
    extra query for the whole page) with only the RESULT_VERSION_FIELDS loaded.
    """
    qs = Service.objects.filter(_published_with_filters(filters))
    if filters.agency:
        qs = qs.filter(agency__slug=filters.agency)
    if filters.region:
        qs = qs.filter(agency__region_name=filters.region)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.facility:
        qs = qs.filter(unit__in=units_with_facility(filters.facility))
    if filters.channel:
        if is_postgresql():
            qs = qs.filter(channels__contains=[filters.channel])
        else:
            qs = qs.filter(channels__icontains=f'"{filters.channel}"')

    query = normalise_query(filters.query)
    if query:
        qs = _match_postgresql(qs, query) if is_postgresql() else _match_plain(qs, query)
    else:
        qs = qs.order_by("name", "pk")
    # Only what a result shows: the wide columns (the vector, the summary, the agency's
    # address and contacts) are left in the database (and out of the results cache).
    return (
        qs.select_related("agency")
        .only(*RESULT_SERVICE_FIELDS)
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StandardVersion.objects.filter(status=VersionStatus.PUBLISHED).only(
                    *RESULT_VERSION_FIELDS
                ),
                to_attr="published",
            )
        )
    )


class TitleText(Func):
    """A service's name and keywords as one text: what the title trigram index holds."""

    # Literal SQL, no parameters: it must read exactly like the indexed expression of
    # migration 0003 (service_title_trgm_gin) for PostgreSQL to use that index.
    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("name"), F("keywords"))


def _any_word(terms: list[str], *, weights: str = "") -> SearchQuery | None:
    """Any of the words, in either configuration; only in the given weights if any."""
    queries = [
        # Raw syntax only for the label: the terms are runs of word characters, which
        # to_tsquery parses as words (never as operators).
        SearchQuery(f"{term}:{weights}", config=config, search_type="raw")
        if weights
        else SearchQuery(term, config=config, search_type="plain")
        for term in terms
        for config in ("indonesian", "simple")
    ]
    return reduce(lambda a, b: a | b, queries) if queries else None


def _close_titles(query: str) -> RawSQL:
    """Up to CANDIDATES_PER_SET services whose name or keywords have words close to the query.

    By trigrams (`%>`, pg_trgm's word similarity at its default threshold of 0.6), read
    through the title trigram index only: see the function in migration 0003. Drawn before
    the filters, which apply to the ranked union.
    """
    return RawSQL("SELECT services_close_titles(%s, %s)", [query, CANDIDATES_PER_SET])


def _match_postgresql(qs: QuerySet[Service], query: str) -> QuerySet[Service]:
    """Candidates found through GIN indexes and capped, then ranked.

    Three candidate sets, each drawn by one index-served predicate and capped at
    CANDIDATES_PER_SET, so that the cost does not grow with the number of matching
    services:

    - the query's words in the name or keywords (weight A of the stored vector);
    - for typos, names and keywords with words whose trigrams are close to the query's
      (`_close_titles`, on the title trigram index of migration 0003);
    - the query's words anywhere in the stored vector (agency, product, requirements).

    Only their union (at most 3 x CANDIDATES_PER_SET services) is ranked: `ts_rank` on
    the stored vector plus the trigram similarity of the name and keywords. Below the caps
    every match is a candidate and the order is exact; above them a set's candidates are
    the first its index scan meets (`results_capped` tells the page to say so).
    """
    terms = _terms(query)
    # All words (websearch syntax: quotes and -exclusions work), in either configuration...
    all_words = SearchQuery(query, config="indonesian", search_type="websearch") | SearchQuery(
        query, config="simple", search_type="websearch"
    )
    # ...or, ranked lower, any of the words: a misspelt word does not hide the others.
    each_word = _any_word(terms)
    any_word = all_words if each_word is None else all_words | each_word

    # No ordering in the capped subqueries: a LIMIT under an ORDER BY would have to read
    # every match first ("KTP" is a requirement of thousands of services; ranking them all
    # cost 3x the whole page), and Service.Meta.ordering would add one.
    def capped(condition: Q) -> QuerySet[Any, Any]:
        return qs.filter(condition).order_by().values("pk")[:CANDIDATES_PER_SET]

    sets = [
        capped(Q(search_vector=any_word)),
        qs.filter(pk__in=_close_titles(query)).order_by().values("pk"),
    ]
    in_title = _any_word(terms, weights="A")
    if in_title is not None:
        sets.append(capped(Q(search_vector=in_title)))
    candidates = sets[0].union(*sets[1:])
    return (
        Service.objects.filter(pk__in=candidates)
        .annotate(
            rank=SearchRank(F("search_vector"), all_words) * 2
            + SearchRank(F("search_vector"), any_word)
            # One word similarity on the name and keywords together (what the title
            # trigram index holds): as close as the closer of the two, at a third of the
            # cost of three similarity calls.
            + TrigramWordSimilarity(query, TitleText())
        )
        .order_by("-rank", "name", "pk")
    )


# --- One page of results, with the count estimated where an exact one is costly -------------

# A search counts at most this many matches (+1 to know there are more): without words, or
# with filters only, every published service matches, and an exact count of 100,000 rows
# would cost more than the page itself. Above it the page says "more than COUNT_LIMIT" and
# pages through the first COUNT_LIMIT.
COUNT_LIMIT = 1000


class _CountedPaginator(Paginator):
    """A paginator whose count is already known (counted at most COUNT_LIMIT + 1 rows)."""

    def __init__(self, object_list: Any, count: int) -> None:
        super().__init__(object_list, PAGE_SIZE)
        self.__dict__["count"] = count  # the cached_property, set: never COUNT(*) again


def page_number(raw: int | str | None) -> int:
    """The page asked for, as a number (anything else is the first page, as get_page does)."""
    try:
        return int(str(raw).strip())
    except ValueError:
        return 1


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: what the results section shows (picklable, so cacheable)."""

    services: Sequence[Service]
    number: int
    count: int  # the matches, or COUNT_LIMIT when `more`
    more: bool  # more than COUNT_LIMIT services match: `count` is a lower bound
    capped: bool  # the candidate sets were capped (results_capped)

    def page(self) -> Page[Service]:
        return Page(self.services, self.number, _CountedPaginator([], self.count))


def service_search_page(*, filters: SearchFilters, number: int | str | None) -> SearchPage:
    """The page `number` of the search's results, counting at most COUNT_LIMIT + 1 matches.

    Two queries and the versions' prefetch: the bounded count (`SELECT count(*) FROM
    (... LIMIT COUNT_LIMIT + 1)`) and the page's rows.
    """
    qs = service_search(filters=filters)
    found = qs.order_by()[: COUNT_LIMIT + 1].count()
    count = min(found, COUNT_LIMIT)
    page = _CountedPaginator(qs, count).get_page(number)
    services = list(page.object_list) if count else []
    return SearchPage(
        services=services,
        number=page.number,
        count=count,
        more=found > COUNT_LIMIT,
        capped=results_capped(filters=filters, count=count),
    )


def results_capped(*, filters: SearchFilters, count: int) -> bool:
    """Whether a search's `count` results may be a capped part of its matches."""
    return bool(normalise_query(filters.query)) and is_postgresql() and count >= CANDIDATES_PER_SET


def _match_plain(qs: QuerySet[Service], query: str) -> QuerySet[Service]:
    for term in _terms(query) or [query]:
        qs = qs.filter(
            Q(name__icontains=term) | Q(keywords__icontains=term) | Q(agency__name__icontains=term)
        )
    return qs.annotate(
        rank=Case(
            When(name__icontains=query, then=Value(2)),
            When(keywords__icontains=query, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-rank", "name", "pk")


# --- Completeness figures (the 14 components, in SQL) ---------------------------------------


def _nonblank(field: str) -> Q:
    return Q(**{f"{field}__regex": r"\S"})


def _raw_condition(sql: str) -> Q:
    # Only our own table and column names are interpolated, never user input.
    return Q(RawSQL(sql, [], output_field=BooleanField()))  # noqa: S611


def _json_list_nonempty(column: str) -> Q:
    table = StandardVersion._meta.db_table
    length = "jsonb_array_length" if is_postgresql() else "json_array_length"
    return _raw_condition(f"{length}({table}.{column}) > 0")


def _json_list_has_text(column: str) -> Q:
    table = StandardVersion._meta.db_table
    if is_postgresql():
        sql = f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({table}.{column}) AS e(x) WHERE e.x ~ '\\S')"  # noqa: S608
    else:
        sql = f"EXISTS (SELECT 1 FROM json_each({table}.{column}) AS e WHERE trim(e.value, ' ' || char(9, 10, 13)) <> '')"  # noqa: S608
    return _raw_condition(sql)


def _has_child(model: Any) -> Q:
    from django.db.models import Exists, OuterRef

    return Q(Exists(model.objects.filter(version=OuterRef("pk"))))


def _component_conditions() -> list[Q]:
    """Mirror of services.components.COMPONENTS, one condition per component, in order.

    tests/public_site/test_pages.py checks that it agrees with `completeness()`.
    """
    from services.models import CostItem

    return [
        _has_child(Requirement),
        _has_child(ProcedureStep),
        Q(processing_time_value__gt=0),
        Q(is_free=True) | _has_child(CostItem),
        _nonblank("product"),
        _has_child(ComplaintChannel),
        _json_list_has_text("legal_basis"),
        _json_list_nonempty("facilities") | _nonblank("facilities_note"),
        _nonblank("staff_competence"),
        _nonblank("internal_supervision"),
        Q(staff_count__gt=0),
        _nonblank("service_guarantee"),
        _nonblank("safety_security"),
        _nonblank("performance_evaluation"),
    ]


def version_scores(versions: QuerySet[StandardVersion]) -> QuerySet[StandardVersion]:
    """The versions annotated with `score`: the number of the 14 components present."""
    parts = [
        Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
        for condition in _component_conditions()
    ]
    score: Any = parts[0]
    for part in parts[1:]:
        score = score + part
    return versions.annotate(score=score)


@dataclass(frozen=True)
class StandardsFigures:
    """Completeness of a group's published standards (an agency's or a unit's)."""

    published: int = 0
    complete: int = 0
    score_total: int = 0

    @property
    def complete_percent(self) -> int | None:
        return round(100 * self.complete / self.published) if self.published else None

    @property
    def mean_score(self) -> float | None:
        return round(self.score_total / self.published, 1) if self.published else None


def standards_figures_query(
    *, by: Literal["agency", "unit"], ids: Iterable[int] | None = None
) -> QuerySet[Any, Any]:
    """Rows of `group_id`, `published`, `complete` and `score_total`: one per agency or unit
    with published standards."""
    from services.components import COMPONENTS

    key = f"service__{by}_id"
    versions = StandardVersion.objects.filter(status=VersionStatus.PUBLISHED)
    if ids is not None:
        versions = versions.filter(**{f"{key}__in": list(ids)})
    return (
        version_scores(versions)
        .order_by()
        .values(group_id=F(key))
        .annotate(
            published=Count("pk"),
            complete=Count("pk", filter=Q(score=len(COMPONENTS))),
            score_total=Sum("score"),
        )
    )


def standards_figures(
    *, by: Literal["agency", "unit"], ids: Iterable[int] | None = None
) -> dict[int, StandardsFigures]:
    """Completeness figures per agency or unit id, in one query (groups without standards absent)."""
    return {
        row["group_id"]: StandardsFigures(
            published=row["published"],
            complete=row["complete"],
            score_total=row["score_total"] or 0,
        )
        for row in standards_figures_query(by=by, ids=ids)
    }
