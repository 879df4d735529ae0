from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

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
