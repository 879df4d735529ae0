"""The conventions of /api/v1/ for big lists and cacheable reads (docs/api.md).

- `StableCursorPagination`: opaque cursors over a unique key, so a page never repeats or
  skips a row when rows are inserted between two requests (page numbers do both).
- `ConditionalGetMixin`: ETag and Last-Modified on lists and details, and 304 to a
  conditional GET whose validators still match, answered before the heavy queries run.
- `SparseFieldsMixin`: `?fields=a,b` trims the items of a heavy list to the named fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.utils.http import http_date, parse_http_date_safe, quote_etag
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

MAX_PAGE_SIZE = 500
# What encode_cursor gives out: URL-safe base64 of a short query string.
_CURSOR = re.compile(r"[A-Za-z0-9+/_-]{4,200}={0,2}")
DEFAULT_PAGE_SIZE = 50


def checked_page_size(request: Request, param: str, default: int, maximum: int) -> int:
    """`page_size` from the query, or the default: junk or out of range is a 400."""
    raw = request.query_params.get(param)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise exceptions.ValidationError(
            {param: [_("A whole number from 1 to %(max)d.") % {"max": maximum}]}
        )
    return int(raw)


class StableCursorPagination(CursorPagination):
    """Cursor pagination, ordered by the primary key unless the query asks for another
    order (the view's FilterSet validates `ordering`; the key then breaks ties).

    A cursor encodes the position of the last row seen, not an offset from the start, so
    rows inserted before it do not shift the next page: no row is served twice or missed.
    """

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering = "id"

    def get_page_size(self, request: Request) -> int:
        return checked_page_size(
            request, self.page_size_query_param, int(self.page_size), self.max_page_size
        )

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        default = getattr(view, "cursor_ordering", None) or self.ordering
        default = (default,) if isinstance(default, str) else tuple(default)
        filterset = getattr(view, "filterset_class", None)
        orderable = filterset is not None and "ordering" in filterset.base_filters
        if orderable and request.query_params.get("ordering") and queryset.query.order_by:
            requested = tuple(str(field) for field in queryset.query.order_by)
            key = "-id" if requested[0].startswith("-") else "id"
            return requested if requested[-1].lstrip("-") == "id" else (*requested, key)
        return default

    def decode_cursor(self, request: Request) -> Any:
        raw = request.query_params.get(self.cursor_query_param)
        try:
            if raw is not None and not _CURSOR.fullmatch(raw):
                raise exceptions.NotFound()
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("This cursor is not one the API gave out.")]}
            ) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


# --- Throttling ------------------------------------------------------------------------
READ_SCOPE = "read"


class ReadThrottleMixin:
    """Reads count against the `read` scope (settings DEFAULT_THROTTLE_RATES, per address
    or per caller, in the shared cache) besides the anon/user limits; writes do not."""

    request: Any

    @property
    def throttle_scope(self) -> str | None:
        return READ_SCOPE if self.request.method in {"GET", "HEAD", "OPTIONS"} else None


# --- Conditional GET -------------------------------------------------------------------
def _caller(request: Request) -> str:
    """Who asks: staff see drafts, so their lists differ from the public's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    auth = getattr(request, "auth", None)
    if auth is not None:
        return f"key:{getattr(auth, 'pk', '')}"
    return "public"


def make_etag(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return quote_etag(digest[:32])


def not_modified(request: Request, etag: str, last_modified: dt.datetime | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since when both are sent."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since and last_modified is not None:
        parsed = parse_http_date_safe(since)
        return parsed is not None and int(last_modified.timestamp()) <= parsed
    return False


def stamp(response: Response, etag: str, last_modified: dt.datetime | None) -> Response:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Vary"] = "Accept, Accept-Language, Authorization, Cookie"
    return response


def not_modified_response(etag: str, last_modified: dt.datetime | None) -> Response:
    return stamp(Response(status=304), etag, last_modified)


def conditional(request: Request, etag: str, last_modified: dt.datetime | None) -> Response | None:
    return (
        not_modified_response(etag, last_modified)
        if not_modified(request, etag, last_modified)
        else None
    )


class ConditionalGetMixin:
    """ETag and Last-Modified for `list` and `retrieve`, with 304 before the heavy work.

    A list's validators are its row count and the latest `updated_at` among the rows (and
    the related rows named in `modified_fields`), with the query string, the language and
    the caller: one aggregate query. A detail's are the row's own (`detail_validators`).
    """

    modified_fields: Sequence[str] = ("updated_at",)

    request: Any

    def _aggregate(self, queryset: QuerySet[Any]) -> tuple[int, dt.datetime | None]:
        aggregates: dict[str, Any] = {"n": Count("pk", distinct=True)}
        aggregates |= {f"m{i}": Max(field) for i, field in enumerate(self.modified_fields)}
        row = queryset.order_by().aggregate(**aggregates)
        stamps = [row[f"m{i}"] for i in range(len(self.modified_fields))]
        return row["n"], max((s for s in stamps if s is not None), default=None)

    def list_validators(self, queryset: QuerySet[Any]) -> tuple[str, dt.datetime | None]:
        count, last = self._aggregate(queryset)
        query = sorted(self.request.query_params.lists())
        etag = make_etag(
            self.request.path, query, get_language(), _caller(self.request), count, last
        )
        return etag, last

    def detail_validators(self, obj_filter: dict[str, Any]) -> tuple[str, dt.datetime | None]:
        queryset = self.get_queryset().filter(**obj_filter)  # type: ignore[attr-defined]
        count, last = self._aggregate(queryset)
        if count == 0:
            raise exceptions.NotFound()
        etag = make_etag(self.request.path, get_language(), _caller(self.request), last)
        return etag, last

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if (validate := getattr(self, "validate_sparse_fields", None)) is not None:
            validate()
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        etag, last = self.list_validators(queryset)
        if (early := conditional(request, etag, last)) is not None:
            return early
        return stamp(super().list(request, *args, **kwargs), etag, last)  # type: ignore[misc]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
        value = kwargs.get(lookup_url_kwarg)
        if self.lookup_field == "pk" and not str(value).isdigit():  # type: ignore[attr-defined]
            raise exceptions.NotFound()
        etag, last = self.detail_validators({self.lookup_field: value})  # type: ignore[attr-defined]
        if (early := conditional(request, etag, last)) is not None:
            return early
        return stamp(super().retrieve(request, *args, **kwargs), etag, last)  # type: ignore[misc]


# --- Sparse fieldsets ------------------------------------------------------------------
def requested_fields(request: Request | None, allowed: Iterable[str]) -> list[str] | None:
    """The names in `?fields=a,b` (None when absent or empty); an unknown name is a 400."""
    if request is None:
        return None
    raw = request.query_params.get("fields")
    if not raw:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    allowed_set = set(allowed)
    unknown = [name for name in names if name not in allowed_set]
    if unknown or not names:
        raise exceptions.ValidationError(
            {
                "fields": [
                    _("Unknown fields: %(names)s. Choose from: %(allowed)s.")
                    % {"names": ", ".join(unknown), "allowed": ", ".join(sorted(allowed_set))}
                ]
            }
        )
    return names


class SparseFieldsMixin:
    """A list view whose items keep only the fields named in `?fields=` (a detail always
    has every field). `sparse_fields` names the fields one may ask for."""

    sparse_fields: Sequence[str] = ()
    request: Any
    action: Any

    def validate_sparse_fields(self) -> list[str] | None:
        return requested_fields(self.request, self.sparse_fields)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        serializer = super().get_serializer(*args, **kwargs)  # type: ignore[misc]
        if kwargs.get("many") and self.action == "list":
            keep = self.validate_sparse_fields()
            if keep is not None:
                child = serializer.child
                for name in set(child.fields) - set(keep):
                    child.fields.pop(name)
        return serializer


def sparse_fields_parameter(fields: Sequence[str]) -> OpenApiParameter:
    """The OpenAPI description of `fields` for a list of these field names. The items'
    schema then lists no field as required (core.api.problem_responses_hook)."""
    return OpenApiParameter(
        name="fields",
        type={"type": "array", "items": {"type": "string", "enum": list(fields)}, "minItems": 1},
        location=OpenApiParameter.QUERY,
        required=False,
        style="form",
        explode=False,
        description="Sparse fieldset: only these fields of each item, comma-separated.",
    )
