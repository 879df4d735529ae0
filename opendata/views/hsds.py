"""Open Referral HSDS 3.0 API (read only, no key): `/`, `/services` and `/services/{id}`
(the required endpoints), `/organizations` and `/organizations/{id}`. Lists are paginated
with `page` and `per_page`; errors are RFC 9457 problems."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies.models import Agency
from core.problems import problem_response
from opendata import hsds
from opendata.hsds_selectors import (
    hsds_defaults,
    hsds_organization_get,
    hsds_organization_page,
    hsds_service_get,
    hsds_service_page,
)
from services.models import Service

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
CACHE_CONTROL = "public, max-age=300"


class BadParameter(Exception):
    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _json(document: Any) -> JsonResponse:
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _bad(exc: BadParameter) -> JsonResponse:
    return problem_response(
        400,
        "invalid",
        _("The request has invalid parameters."),
        errors=[{"parameter": exc.parameter, "detail": exc.detail, "code": "invalid"}],
    )


def _not_found(what: str) -> JsonResponse:
    return problem_response(404, "not_found", what)


def _integer(request: HttpRequest, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, _("Enter a whole number.")) from None
    if value < 1:
        raise BadParameter(name, _("Enter a number of at least 1."))
    if maximum is not None and value > maximum:
        raise BadParameter(name, _("Enter a number of at most %(maximum)d.") % {"maximum": maximum})
    return value


def _paging(request: HttpRequest) -> tuple[int, int]:
    number = _integer(request, "page", 1)
    size = _integer(request, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    return number, size


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return _json(hsds.index(base=_base(request)))


@require_safe
def services(request: HttpRequest) -> HttpResponse:
    try:
        number, size = _paging(request)
    except BadParameter as exc:
        return _bad(exc)
    agency_id: int | None = None
    organization = request.GET.get("organization_id")
    if organization:
        agency_id = hsds.decode_id(hsds.ORGANIZATION, organization)
        if agency_id is None:
            return _bad(BadParameter("organization_id", _("No organization has this id.")))
    total, rows = hsds_service_page(offset=(number - 1) * size, limit=size, agency_id=agency_id)
    base = _base(request)
    contents = [hsds.service_basic(service, version, base=base) for service, version in rows]
    return _json(hsds.page(contents, total=total, number=number, size=size))


@require_safe
def service(request: HttpRequest, id: str) -> HttpResponse:
    pk = hsds.decode_id(hsds.SERVICE, id)
    if pk is None:
        return _not_found(_("No service has this id."))
    try:
        item, version = hsds_service_get(pk=pk)
    except Service.DoesNotExist:
        return _not_found(_("No service has this id."))
    document = hsds.service_full(item, version, base=_base(request), defaults=hsds_defaults())
    return _json(document)


@require_safe
def organizations(request: HttpRequest) -> HttpResponse:
    try:
        number, size = _paging(request)
    except BadParameter as exc:
        return _bad(exc)
    total, agencies = hsds_organization_page(offset=(number - 1) * size, limit=size)
    base = _base(request)
    contents = [hsds.organization_basic(agency, base=base) for agency in agencies]
    return _json(hsds.page(contents, total=total, number=number, size=size))


@require_safe
def organization(request: HttpRequest, id: str) -> HttpResponse:
    pk = hsds.decode_id(hsds.ORGANIZATION, id)
    if pk is None:
        return _not_found(_("No organization has this id."))
    try:
        data = hsds_organization_get(pk=pk)
    except Agency.DoesNotExist:
        return _not_found(_("No organization has this id."))
    base = _base(request)
    defaults = hsds_defaults()
    locations = [
        location
        for unit in data.units
        if (location := hsds.unit_location(unit, defaults)) is not None
    ] + [hsds.place_location(place, defaults) for place in data.places]
    document = hsds.organization_full(
        data.agency,
        base=base,
        locations=locations,
        services=[hsds.service_basic(s, v, base=base) for s, v in data.services],
    )
    return _json(document)
