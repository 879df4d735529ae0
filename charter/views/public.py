"""Poster pages and PDF downloads for citizen charters and service standards.

Public, anonymous, and the same for everyone: the poster pages are standalone
documents (no session, no CSRF token, no per-user header), so shared caches may
keep them.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from charter import posters
from charter.models import Charter
from services.models import Service, StandardVersion


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=posters.POSTER_MAX_AGE)
    return response


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return _cacheable(response)


def _charter(pk: int) -> Charter:
    try:
        return posters.charter_get_for_poster(pk=pk)
    except Charter.DoesNotExist as exc:
        raise Http404 from exc


def _version(agency_slug: str, slug: str) -> StandardVersion:
    try:
        return posters.standard_get_for_poster(agency_slug=agency_slug, slug=slug)
    except (Service.DoesNotExist, StandardVersion.DoesNotExist) as exc:
        raise Http404 from exc


@require_safe
def charter_poster(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _charter(pk)
    size = posters.poster_size(request.GET.get("size"))
    url = request.build_absolute_uri(charter.get_absolute_url())
    context = {
        "charter": charter,
        "services": posters.charter_services(charter),
        "compensation": posters.compensation_text(charter),
        "decree": posters.decree_text(charter),
        "size": size,
        "title": posters.CHARTER_TITLE,
        "public_url": url,
        "qr_svg": mark_safe(posters.qr_svg(url, title=_("QR code: %(url)s") % {"url": url})),  # noqa: S308 - segno escapes the title
    }
    return _cacheable(render(request, "charter/charter_poster.html", context))


@require_safe
def charter_poster_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    charter = _charter(pk)
    size = posters.poster_size(request.GET.get("size"))
    url = request.build_absolute_uri(charter.get_absolute_url())
    content = posters.charter_poster_pdf(charter=charter, url=url, size=size)
    filename = f"maklumat-pelayanan-{charter.unit.slug}-v{charter.number}-{size}.pdf"
    return _pdf(content, filename)


@require_safe
def standard_poster(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    version = _version(agency_slug, slug)
    size = posters.poster_size(request.GET.get("size"))
    url = request.build_absolute_uri(version.service.get_absolute_url())
    context = {
        "version": version,
        "service": version.service,
        "processing_time": posters.duration_text(
            version.processing_time_value, str(version.get_processing_time_unit_display())
        ),
        "cost": posters.cost_text(version),
        "size": size,
        "title": posters.STANDARD_TITLE,
        "public_url": url,
        "qr_svg": mark_safe(posters.qr_svg(url, title=_("QR code: %(url)s") % {"url": url})),  # noqa: S308 - segno escapes the title
    }
    return _cacheable(render(request, "charter/standard_poster.html", context))


@require_safe
def standard_poster_pdf(request: HttpRequest, agency_slug: str, slug: str) -> HttpResponse:
    version = _version(agency_slug, slug)
    size = posters.poster_size(request.GET.get("size"))
    url = request.build_absolute_uri(version.service.get_absolute_url())
    content = posters.standard_poster_pdf(version=version, url=url, size=size)
    service = version.service
    filename = (
        f"standar-pelayanan-{service.agency.slug}-{service.slug}-v{version.number}-{size}.pdf"
    )
    return _pdf(content, filename)
