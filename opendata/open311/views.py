"""GeoReport v2 endpoints (mounted at open311/v2/): thin adapters over the selectors,
records and intake. Every answer is in the format the path names (XML when it names none
we speak), errors included; every read is rate-limited per client address like the
public API, every write per address and per key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited

from agencies.api_keys import ApiKeyActor, ApiKeyRefused, api_key_authenticate
from core.client_ip import client_ip
from core.text import has_control_characters
from opendata.open311 import documents, records, selectors
from opendata.open311.documents import FORMATS, XML, errors, render, w3_datetime
from opendata.open311.intake import Refused, open311_complaint_file

View = Callable[..., HttpResponse]
READ_GROUP = "opendata.open311.read"
WRITE_GROUP = "opendata.open311.write"
KEY_GROUP = "opendata.open311.key"
FORM_ENCODED = "application/x-www-form-urlencoded"


def _rate(scope: str) -> str:
    framework: dict[str, Any] = settings.REST_FRAMEWORK
    rates: dict[str, str] = framework["DEFAULT_THROTTLE_RATES"]
    return rates[scope]


def _limited(request: HttpRequest, group: str, scope: str, key: Any = "ip") -> bool:
    return is_ratelimited(
        request, group=group, key=key, rate=_rate(scope), method=is_ratelimited.ALL, increment=True
    )


def _too_many(fmt: str) -> HttpResponse:
    response = errors(fmt, 429, [_("Too many requests: try again in a minute.")])
    response["Retry-After"] = "60"
    return response


def endpoint(*methods: str) -> Callable[[View], View]:
    """The frame of every endpoint: the format, the method, the caller's language, the
    read rate limit, and the Vary and Content-Language headers. No endpoint reads a
    cookie or a session (a write is authorised by its api_key alone), so none needs
    CSRF's token."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def run(request: HttpRequest, *args: Any, fmt: str = XML, **kwargs: Any) -> HttpResponse:
            language = translation.get_language_from_request(request, check_path=False)
            with translation.override(language):
                if fmt not in FORMATS:
                    response = errors(XML, 404, [_("Formats: xml or json.")])
                elif request.method not in methods:
                    allowed = ", ".join(methods)
                    response = errors(
                        fmt, 405, [_("This resource answers %(methods)s.") % {"methods": allowed}]
                    )
                    response["Allow"] = allowed
                elif request.method in ("GET", "HEAD") and _limited(request, READ_GROUP, "read"):
                    response = _too_many(fmt)
                else:
                    response = view(request, *args, fmt=fmt, **kwargs)
                response["Content-Language"] = language
            patch_vary_headers(response, ["Accept-Language"])
            return response

        return run

    return wrap


def _query(request: HttpRequest, fmt: str) -> QueryDict | HttpResponse:
    bad = sorted(
        {k for k, values in request.GET.lists() for v in [k, *values] if has_control_characters(v)}
    )
    if bad:
        return errors(
            fmt,
            400,
            [_("%(name)s: control characters are not allowed.") % {"name": n} for n in bad],
        )
    return request.GET


# --- Discovery and services ----------------------------------------------------------------
@endpoint("GET", "HEAD")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    changeset = selectors.open311_changeset() or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    document = records.discovery(
        endpoint=base.rsplit("/", 1)[0],
        changeset=w3_datetime(changeset) or "",
        contact=_("Questions about this API: %(email)s") % {"email": settings.DEFAULT_FROM_EMAIL},
        key_service=_(
            "An agency's administrators create its API keys in the staff area (the agency's "
            "page, API keys): %(url)s"
        )
        % {"url": request.build_absolute_uri(reverse("staff:dashboard"))},
        production=not settings.DEBUG,
    )
    return render(fmt, "discovery", document)


@endpoint("GET", "HEAD")
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    document = [records.service_record(s) for s in selectors.open311_services()]
    return render(fmt, "services", document)


@endpoint("GET", "HEAD")
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    service = selectors.open311_service(code)
    if service is None:
        return errors(fmt, 404, [_("service_code %(code)s was not found.") % {"code": code[:40]}])
    return render(fmt, "service_definition", records.service_definition(service))


# --- Service requests ----------------------------------------------------------------------
def _moment(value: str, name: str, problems: list[str], *, end: bool) -> dt.datetime | None:
    """A w3 datetime with its time zone, or a date (its first or last moment, in the
    registry's zone)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            return timezone.make_aware(moment)
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        problems.append(
            _("%(name)s: a w3 datetime with its time zone, e.g. 2026-12-01T00:00:00+07:00.")
            % {"name": name}
        )
        return None
    return parsed


def _list_values(query: QueryDict, name: str) -> list[str]:
    """A parameter that may be comma delimited and declared several times."""
    return [v.strip() for raw in query.getlist(name) for v in raw.split(",") if v.strip()]


def _requests_document(items: list[selectors.Request]) -> list[dict[str, Any]]:
    return [records.request_record(item) for item in items]


def _get_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    query = _query(request, fmt)
    if isinstance(query, HttpResponse):
        return query
    problems: list[str] = []
    ids = _list_values(query, "service_request_id")
    if ids:
        # The spec: service_request_id overrides every other argument.
        if len(ids) > selectors.MAX_IDS:
            problems.append(
                _("service_request_id: at most %(max)d ids.") % {"max": selectors.MAX_IDS}
            )
        problems += [
            _("service_request_id: %(id)s is not an id of this endpoint.") % {"id": v[:40]}
            for v in ids
            if not selectors.is_request_id(v)
        ]
        if problems:
            return errors(fmt, 400, problems)
        return render(fmt, "service_requests", _requests_document(selectors.requests_by_ids(ids)))

    codes = _list_values(query, "service_code")
    bad_codes = [c for c in codes if not (c.isascii() and c.isdigit() and len(c) <= 18)]
    problems += [_("service_code %(code)s was not found.") % {"code": c[:40]} for c in bad_codes]
    statuses = _list_values(query, "status")
    if any(s not in (selectors.OPEN, selectors.CLOSED) for s in statuses):
        problems.append(_("status: open or closed (comma delimited)."))
    start = _moment(query.get("start_date", "").strip(), "start_date", problems, end=False)
    end = _moment(query.get("end_date", "").strip(), "end_date", problems, end=True)
    if problems:
        return errors(fmt, 400, problems)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        assert end is not None
        start = end - selectors.MAX_SPAN
    if end is None:
        end = start + selectors.MAX_SPAN
    if end < start:
        return errors(fmt, 400, [_("end_date is before start_date.")])
    if end - start > selectors.MAX_SPAN:
        return errors(fmt, 400, [_("start_date and end_date may be at most 90 days apart.")])
    found = selectors.requests_list(
        selectors.RequestFilter(
            start=start,
            end=end,
            service_ids={int(c) for c in codes} if codes else None,
            statuses=set(statuses) or {selectors.OPEN, selectors.CLOSED},
        )
    )
    return render(fmt, "service_requests", _requests_document(found))


def _api_key(request: HttpRequest, data: QueryDict) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Api-Key "):
        return header.removeprefix("Api-Key ").strip()
    return (data.get("api_key") or "").strip()


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    if _limited(request, WRITE_GROUP, "anon"):
        return _too_many(fmt)
    content_type = request.content_type or ""
    if content_type != FORM_ENCODED:
        return errors(
            fmt, 400, [_("Send the request form-encoded (%(type)s).") % {"type": FORM_ENCODED}]
        )
    try:
        data = request.POST
    except SuspiciousOperation:
        return errors(fmt, 400, [_("The request is too large.")])
    secret = _api_key(request, data)
    if not secret:
        return errors(fmt, 403, [_("api_key was not provided: filing needs an agency API key.")])
    try:
        actor: ApiKeyActor = api_key_authenticate(secret, ip=client_ip(request))
    except ApiKeyRefused:
        return errors(fmt, 403, [_("Invalid api_key received: it is unknown, revoked or expired.")])
    if _limited(request, KEY_GROUP, "user", key=lambda _g, _r: actor.key.prefix):
        return _too_many(fmt)
    try:
        complaint = open311_complaint_file(data=data, actor=actor)
    except Refused as refused:
        return errors(fmt, refused.status, refused.descriptions)
    status_url = request.build_absolute_uri(
        reverse("complaints:status", kwargs={"code": complaint.tracking_code})
    )
    notice = _(
        "The complaint was received. Keep its tracking code %(code)s: its status page is %(url)s"
    ) % {"code": complaint.tracking_code, "url": status_url}
    document = [{"token": complaint.tracking_code, "service_notice": notice, "account_id": None}]
    return render(fmt, "service_requests", document, status=201)


@endpoint("GET", "HEAD", "POST")
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt)


@endpoint("GET", "HEAD")
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    item = selectors.request_by_id(request_id) if selectors.is_request_id(request_id) else None
    if item is None:
        return errors(
            fmt, 404, [_("service_request_id %(id)s was not found.") % {"id": request_id[:40]}]
        )
    return render(fmt, "service_requests", _requests_document([item]))


@endpoint("GET", "HEAD")
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    """A token is a tracking code: the public id of the request it names. A confidential
    complaint has none (it is never public): 404, like an unknown token."""
    item = selectors.request_by_id(token) if selectors.is_token(token) else None
    if item is None:
        return errors(fmt, 404, [_("token %(token)s was not found.") % {"token": token[:40]}])
    document = [{"service_request_id": selectors.public_id(item), "token": token}]
    return render(fmt, "service_requests", document)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    fmt = documents.JSON if path.endswith(".json") else XML
    language = translation.get_language_from_request(request, check_path=False)
    with translation.override(language):
        return errors(fmt, 404, [_("No such resource: see discovery.xml.")])
