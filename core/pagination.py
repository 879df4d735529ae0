"""Pagination of the public lists that grow with the data (an agency's services, a unit's,
a charter's, the league of agencies).

One rule for the page number, shared by every such page: no `?page=` (or an empty one) is
the first page; a plain number from 1 to the last page is that page; anything else (`abc`,
`0`, `02`, `1.0`, a number past the last page, the parameter twice) is a 404. A 404 is
never kept by the page cache (core.page_cache), so made-up page numbers cannot fill it,
and each page has exactly one address.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest

DEFAULT_PAGE_SIZE = 50
PAGE_PARAMETER = "page"
# Up to six digits: a list of 50 per page never reaches a million pages.
_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def list_page_size() -> int:
    """Rows per page of a public list (`PUBLIC_LIST_PAGE_SIZE`, default 50)."""
    return int(getattr(settings, "PUBLIC_LIST_PAGE_SIZE", DEFAULT_PAGE_SIZE))


def requested_page_number(request: HttpRequest) -> int:
    """The page number the request asks for (1 if none); Http404 if it is not a plain number."""
    values = request.GET.getlist(PAGE_PARAMETER)
    if not values or values == [""]:
        return 1
    if len(values) > 1 or not _PLAIN_NUMBER.fullmatch(values[0]):
        raise Http404
    return int(values[0])


def page_or_404(
    request: HttpRequest, object_list: Any, *, per_page: int | None = None
) -> Page[Any]:
    """The page of `object_list` that the request asks for, or Http404.

    Two queries on a queryset: the count and the page's rows (plus the queryset's prefetches,
    on the page's rows only). An empty list has one, empty, first page.
    """
    number = requested_page_number(request)
    paginator = Paginator(object_list, per_page or list_page_size(), allow_empty_first_page=True)
    try:
        return paginator.page(number)
    except InvalidPage as exc:
        raise Http404 from exc
