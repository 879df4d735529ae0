from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils import formats, translation
from django.utils.safestring import SafeString, mark_safe
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
    """The current page's address in another language (for the language switcher).

    As Django's `translate_url`, from the view the request was resolved to rather than by
    resolving its path again (a walk through every URL pattern on each page).
    """
    from django.urls import NoReverseMatch, reverse, translate_url

    request = context.get("request")
    if request is None:
        return "/"
    full_path = request.get_full_path()
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name is None:
        return translate_url(full_path, language)
    view = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    with translation.override(language):
        try:
            path = reverse(view, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return full_path
    parsed = urlsplit(full_path)
    return urlunsplit(("", "", path, parsed.query, parsed.fragment))


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


# --- Fragments rendered once per process ------------------------------------------------------
#
# Parts of a page that depend on nothing but the code and the active language (the site's
# navigation, footer, stylesheet links: URLs, static file names, translations) cost the same
# to render on every request. `{% once "name" %}...{% endonce %}` renders its contents the first
# time per process, language and script prefix, then writes the kept text. Nothing inside may
# read the request, the user, the data or any other context variable: what it renders first
# is what every later page shows. Any settings change (tests override them) forgets them all.

_ONCE: dict[tuple[str, str, str], SafeString] = {}


@receiver(setting_changed)
def _forget_once(**kwargs: Any) -> None:
    _ONCE.clear()


class OnceNode(template.Node):
    def __init__(self, name: str, nodelist: template.NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        key = (self.name, translation.get_language() or "", get_script_prefix())
        html = _ONCE.get(key)
        if html is None:
            html = _ONCE[key] = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the template engine
        return html


@register.tag
def once(parser: template.base.Parser, token: template.base.Token) -> OnceNode:
    """`{% once "name" %}...{% endonce %}`: see the note above; names are unique per site."""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("once takes one quoted name")
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    return OnceNode(bits[1][1:-1], nodelist)
