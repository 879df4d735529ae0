from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

from core.pagination import PAGE_PARAMETER

register = template.Library()


@register.filter
def rupiah(value: Any) -> str:
    """Rupiah in the active locale: `Rp 50.000` (id), `Rp 50,000` (en)."""
    if value is None or value == "":
        return ""
    return "Rp " + formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)


@register.filter
def cost_display(total: Any) -> str:
    """A total cost, with zero shown as Gratis / Free."""
    if not total:
        return _("Free")
    return rupiah(total)


@register.simple_tag(takes_context=True)
def absolute_uri(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    if request is not None:
        return request.build_absolute_uri(path)
    from django.conf import settings

    return settings.SITE_URL + path


@register.simple_tag(takes_context=True)
def translated_path(context: dict[str, Any], language: str) -> str:
    """The current page's address in another language (for the language switcher)."""
    from django.urls import translate_url

    request = context.get("request")
    if request is None:
        return "/"
    return translate_url(request.get_full_path(), language)


@register.simple_tag
def page_links(page: Any) -> list[int | None]:
    """The page numbers to link from `page` (a Django Page): the first, the last and two on
    each side of the current one; None where numbers are left out."""
    paginator = page.paginator
    return [
        None if number == paginator.ELLIPSIS else int(number)
        for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], number: int, anchor: str = "", parameter: str = "") -> str:
    """The current address at page `number` of the list paged by `parameter` (a
    core.pagination.ListPage's own; `page` if empty): the context's `querystring` (the other
    parameters, url-encoded, without the page) kept; no page parameter for the first page, so
    that it has one address; `#anchor` if given."""
    request = context.get("request")
    path = request.path if request is not None else ""
    parts = [str(context.get("querystring") or "")]
    if int(number) != 1:
        parts.append(f"{parameter or PAGE_PARAMETER}={int(number)}")
    query = "&".join(part for part in parts if part)
    return path + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")
