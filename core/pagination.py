"""Pagination of the public lists that grow with the data (an agency's services, units and
charters, a unit's services, a charter's, the league of agencies).

One rule for the page number, shared by every such page: no `?page=` (or an empty one) is
the first page; a plain number from 1 to the last page is that page; anything else (`abc`,
`0`, `02`, `1.0`, a number past the last page, the parameter twice) is a 404. A 404 is
never kept by the page cache (core.page_cache), so made-up page numbers cannot fill it,
and each page has exactly one address.

A page that shows several such lists (the agency page: its services, units and charters)
gives each list its own parameter (`?page=`, `?units_page=`, ...) and pages one list at a
time: a list's page links leave the others at their first page, and an address that names
two lists is a 404. Each view of the page then has one address, and their number is the sum
of the lists' pages, not their product (which a crawler following the links, or the page
cache keeping them, would otherwise meet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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


class ListPage(Page[Any]):
    """A page of a public list, knowing the query parameter that addresses it (for its links:
    core.templatetags.maklumat.page_url)."""

    def __init__(self, page: Page[Any], *, parameter: str) -> None:
        super().__init__(page.object_list, page.number, page.paginator)
        self.parameter = parameter


def _asks(request: HttpRequest, parameter: str) -> bool:
    return request.GET.getlist(parameter) not in ([], [""])


def requested_page_number(request: HttpRequest, parameter: str = PAGE_PARAMETER) -> int:
    """The page number the request asks for (1 if none); Http404 if it is not a plain number."""
    if not _asks(request, parameter):
        return 1
    values = request.GET.getlist(parameter)
    if len(values) > 1 or not _PLAIN_NUMBER.fullmatch(values[0]):
        raise Http404
    return int(values[0])


def page_or_404(
    request: HttpRequest,
    object_list: Any,
    *,
    per_page: int | None = None,
    parameter: str = PAGE_PARAMETER,
) -> ListPage:
    """The page of `object_list` that the request asks for (in `?<parameter>=`), or Http404.

    Two queries on a queryset: the count and the page's rows (plus the queryset's prefetches,
    on the page's rows only). An empty list has one, empty, first page.
    """
    number = requested_page_number(request, parameter)
    paginator = Paginator(object_list, per_page or list_page_size(), allow_empty_first_page=True)
    try:
        return ListPage(paginator.page(number), parameter=parameter)
    except InvalidPage as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class ListPages:
    """The pages of the lists a page shows, by parameter, and the one the request pages."""

    pages: dict[str, ListPage]
    # The list the request pages past its first page; else the first list (the first page of
    # any list is the plain page, whose links are the first list's).
    current: ListPage

    def __getitem__(self, parameter: str) -> ListPage:
        return self.pages[parameter]


def pages_or_404(
    request: HttpRequest, lists: Mapping[str, Any], *, per_page: int | None = None
) -> ListPages:
    """The pages of several lists on one page, `lists` mapping each list's parameter to its
    rows (the first is the page's main list): the list the request names at the page it
    asks, the others at their first page; Http404 if the request names more than one list
    or a page that does not exist. Two queries per list on querysets."""
    asked = [parameter for parameter in lists if _asks(request, parameter)]
    if len(asked) > 1:
        raise Http404
    pages = {
        parameter: page_or_404(request, rows, per_page=per_page, parameter=parameter)
        for parameter, rows in lists.items()
    }
    current = pages[asked[0]] if asked else None
    if current is None or current.number == 1:
        current = pages[next(iter(lists))]
    return ListPages(pages=pages, current=current)
