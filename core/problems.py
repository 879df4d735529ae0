"""One error body for every API failure: RFC 9457 problem details.

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "The request has invalid fields.", "code": "invalid",
     "errors": [{"pointer": "#/items/3/reference", "detail": "...", "code": "..."}]}

`code` is the machine-readable reason (stable across languages); `title` is the HTTP
status phrase (the type is `about:blank`); `detail` is for people, in the client's
language. Field errors point into the JSON body (`pointer`, RFC 6901) or name the query
`parameter` they came from. Served as `application/problem+json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from django.http import JsonResponse

from core.text import json_pointer

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    status: int, code: str, detail: str, errors: Iterable[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail),
        "code": code,
    }
    listed = [dict(error) for error in errors or ()]
    if listed:
        body["errors"] = listed
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: Iterable[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """A problem response for code outside DRF's views (middleware, URL-level handlers)."""
    response = JsonResponse(
        problem_body(status, code, detail, errors),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(
    detail: Any, path: tuple[str | int, ...] = (), *, location: str = "pointer"
) -> list[dict[str, Any]]:
    """Flatten DRF's nested error structure into a list of {pointer, detail, code}.

    `location="parameter"` names query parameters instead of pointing into a body.
    """
    found: list[dict[str, Any]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            sub = path if key in ("non_field_errors", "__all__") else (*path, key)
            found.extend(field_errors(value, sub, location=location))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            for item in detail:
                found.append(_one(item, path, location))
        else:
            for index, item in enumerate(detail):
                found.extend(field_errors(item, (*path, index), location=location))
    else:
        found.append(_one(detail, path, location))
    return found


def _one(message: Any, path: tuple[str | int, ...], location: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if location == "parameter" and path:
        entry["parameter"] = str(path[0])
    else:
        entry["pointer"] = json_pointer(path)
    entry["detail"] = str(message)
    code = getattr(message, "code", None)
    if code:
        entry["code"] = str(code)
    return entry
